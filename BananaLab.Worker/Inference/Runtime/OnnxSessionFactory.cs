using BananaLab.Core.Generation;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace BananaLab.Worker.Inference.Runtime;

/// <summary>
/// Opens ONNX graphs with the host's tuned session options and turns a missing or corrupt file
/// into a <c>model_unavailable</c> error that names the file.
/// </summary>
public sealed class OnnxSessionFactory(IOptions<InferenceOptions> options)
{
    private readonly InferenceOptions _options = options.Value;

    /// <summary>Where this factory's sessions run: CUDA or the CPU, decided once for the process (<see cref="ExecutionProviderSelector"/>).</summary>
    public ExecutionProviderChoice ExecutionProvider => ExecutionProviderSelector.Default.Select(_options.ExecutionProvider);

    /// <param name="path">Absolute path of the graph.</param>
    /// <param name="displayPath">The path as a user should read it in an error message.</param>
    public OnnxModel Open(string path, string displayPath) => Open(path, displayPath, CreateSessionOptions);

    /// <summary>
    /// Opens a pre- or post-processing graph whose operators come from ONNX Runtime Extensions (the <c>ai.onnx.contrib</c>
    /// domain: <c>CLIPTokenizer</c>, <c>DecodeImage</c>, …), on the CPU: string and image operators have no CUDA kernels.
    /// </summary>
    public OnnxModel OpenWithExtensions(string path, string displayPath) => Open(path, displayPath, () =>
    {
        var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        sessionOptions.RegisterOrtExtensions();
        return sessionOptions;
    });

    private static OnnxModel Open(string path, string displayPath, Func<SessionOptions> createOptions)
    {
        if (!File.Exists(path))
            throw new GenerationException(GenerationErrors.ModelUnavailable, $"{displayPath} is missing.");
        using var sessionOptions = createOptions();
        try
        {
            return new OnnxModel(new InferenceSession(path, sessionOptions), displayPath);
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayPath} is corrupt or unreadable: {FirstLine(e.Message)}", transient: false, e);
        }
    }

    private SessionOptions CreateSessionOptions()
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = _options.EffectiveIntraOpThreads,
            InterOpNumThreads = 1,
            EnableMemoryPattern = true,
            EnableCpuMemArena = true,
        };
        if (ExecutionProvider.UsesCuda) sessionOptions.AppendExecutionProvider_CUDA(0);
        return sessionOptions;
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
