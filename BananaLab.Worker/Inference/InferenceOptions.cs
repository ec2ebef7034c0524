using Microsoft.Extensions.Options;
using BananaLab.Worker.Inference.Runtime;

namespace BananaLab.Worker.Inference;

/// <summary>The <c>Inference</c> section: how ONNX models are run on this host.</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Auto tries CUDA and falls back to the CPU; Cuda refuses to start without it.</summary>
    public InferenceExecutionProvider ExecutionProvider { get; set; } = InferenceExecutionProvider.Auto;

    /// <summary>Threads one ONNX operator may use; 0 = one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>The x4 super-resolution model, relative to the content root unless absolute.</summary>
    public string UpscalerPath { get; set; } = "models/upscaler/x4/model.onnx";

    public int EffectiveIntraOpThreads => IntraOpThreads > 0 ? IntraOpThreads : Environment.ProcessorCount;
}

public enum InferenceExecutionProvider
{
    Auto,
    Cuda,
    Cpu,
}

/// <summary>
/// Checks the section at start so a bad value stops the host with the key to fix. <c>Cuda</c> on a host where CUDA
/// cannot load stops it too, naming what is missing (<see cref="ExecutionProviderSelector"/>).
/// </summary>
internal sealed class InferenceOptionsValidator(ExecutionProviderSelector selector) : IValidateOptions<InferenceOptions>
{
    public InferenceOptionsValidator() : this(ExecutionProviderSelector.Default)
    {
    }

    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.ExecutionProvider))
            failures.Add($"{InferenceOptions.Section}:{nameof(InferenceOptions.ExecutionProvider)} must be Auto, Cuda or Cpu.");
        if (options.IntraOpThreads < 0 || options.IntraOpThreads > 1024)
            failures.Add($"{InferenceOptions.Section}:{nameof(InferenceOptions.IntraOpThreads)} must be between 0 (one per core) and 1024.");
        if (string.IsNullOrWhiteSpace(options.UpscalerPath))
            failures.Add($"{InferenceOptions.Section}:{nameof(InferenceOptions.UpscalerPath)} must name the x4 upscaler model file.");
        if (options.ExecutionProvider == InferenceExecutionProvider.Cuda && selector.Select(options.ExecutionProvider) is { UsesCuda: false } choice)
            failures.Add($"{InferenceOptions.Section}:{nameof(InferenceOptions.ExecutionProvider)} is Cuda, but {choice.Detail}. " +
                         "Install what is missing (README, \"Run on a CUDA host\") or set it to Auto or Cpu.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
