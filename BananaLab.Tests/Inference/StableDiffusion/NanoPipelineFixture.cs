using BananaLab.Worker.Inference;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>One generator (and so one set of ONNX sessions) for all end-to-end tests of a class.</summary>
public sealed class NanoPipelineFixture
{
    public LocalGeneration Generator { get; } = InferenceTestModels.CreateGenerator();
}
