using BananaLab.Core.Generation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace BananaLab.Worker.Inference.Runtime;

/// <summary>
/// Opens ONNX graphs with the host's tuned session options and turns a missing or corrupt file
/// into a <c>model_unavailable</c> error that names the file.
/// </summary>
public sealed class OnnxSessionFactory(IOptions<InferenceOptions> options, ILogger<OnnxSessionFactory> logger)
{
    private readonly InferenceOptions _options = options.Value;
    private int _fallbackLogged;

    /// <param name="path">Absolute path of the graph.</param>
    /// <param name="displayPath">The path as a user should read it in an error message.</param>
    public OnnxModel Open(string path, string displayPath)
    {
        if (!File.Exists(path))
            throw new GenerationException(GenerationErrors.ModelUnavailable, $"{displayPath} is missing.");
        var sessionOptions = CreateSessionOptions();
        try
        {
            return new OnnxModel(new InferenceSession(path, sessionOptions), displayPath);
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayPath} is corrupt or unreadable: {FirstLine(e.Message)}", transient: false, e);
        }
        finally
        {
            sessionOptions.Dispose();
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
        if (_options.ExecutionProvider != InferenceExecutionProvider.Cpu) TryAppendCuda(sessionOptions);
        return sessionOptions;
    }

    private void TryAppendCuda(SessionOptions sessionOptions)
    {
        try
        {
            if (!InferenceOptionsValidator.CudaAvailable()) throw new NotSupportedException("this ONNX Runtime build has no CUDA provider");
            sessionOptions.AppendExecutionProvider_CUDA(0);
        }
        catch (Exception e) when (_options.ExecutionProvider == InferenceExecutionProvider.Auto)
        {
            if (Interlocked.Exchange(ref _fallbackLogged, 1) == 0)
                logger.LogInformation("Inference runs on the CPU: CUDA is not available ({Reason})", FirstLine(e.Message));
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
