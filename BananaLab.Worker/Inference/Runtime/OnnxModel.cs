using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BananaLab.Worker.Inference.Runtime;

/// <summary>
/// One ONNX graph and what its metadata says about its inputs and outputs, so the pipeline adapts
/// to the exported names, element types and fixed or dynamic axes instead of assuming them.
/// </summary>
public sealed class OnnxModel(InferenceSession session, string displayPath) : IDisposable
{
    public InferenceSession Session { get; } = session;
    public string DisplayPath { get; } = displayPath;

    public IReadOnlyList<OnnxPort> Inputs { get; } = session.InputMetadata.Select(p => new OnnxPort(p.Key, p.Value)).ToList();
    public IReadOnlyList<OnnxPort> Outputs { get; } = session.OutputMetadata.Select(p => new OnnxPort(p.Key, p.Value)).ToList();

    /// <summary>The input with one of the given names, else the input at <paramref name="fallbackIndex"/>.</summary>
    public OnnxPort Input(int fallbackIndex, params string[] names) => Find(Inputs, fallbackIndex, names, "input");

    public OnnxPort Output(int fallbackIndex, params string[] names) => Find(Outputs, fallbackIndex, names, "output");

    private OnnxPort Find(IReadOnlyList<OnnxPort> ports, int fallbackIndex, string[] names, string kind)
    {
        foreach (var name in names)
            if (ports.FirstOrDefault(p => p.Name == name) is { } port) return port;
        if (fallbackIndex < ports.Count) return ports[fallbackIndex];
        throw new Core.Generation.GenerationException(Core.Generation.GenerationErrors.ModelUnavailable,
            $"{DisplayPath} has no {kind} named {string.Join(" or ", names)}.");
    }

    public void Run(RunOptions runOptions, IReadOnlyCollection<string> inputNames, IReadOnlyCollection<OrtValue> inputs,
        IReadOnlyCollection<string> outputNames, IReadOnlyCollection<OrtValue> outputs) =>
        Session.Run(runOptions, inputNames, inputs, outputNames, outputs);

    public void Dispose() => Session.Dispose();
}

/// <summary>An input or output of a graph: name, element type and shape (-1 = dynamic axis).</summary>
public sealed class OnnxPort(string name, NodeMetadata metadata)
{
    public string Name { get; } = name;
    public TensorElementType ElementType { get; } = metadata.ElementDataType;
    public IReadOnlyList<int> Dimensions { get; } = metadata.Dimensions;
    public int Rank => Dimensions.Count;

    public bool IsDynamic(int axis) => axis < Rank && Dimensions[axis] <= 0;

    /// <summary>The fixed size of an axis, or <paramref name="whenDynamic"/> when the graph leaves it open.</summary>
    public int Size(int axis, int whenDynamic) => axis < Rank && Dimensions[axis] > 0 ? Dimensions[axis] : whenDynamic;
}
