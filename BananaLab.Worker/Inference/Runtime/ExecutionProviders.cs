using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace BananaLab.Worker.Inference.Runtime;

/// <summary>Where this process's ONNX sessions run, decided once per setting (<see cref="ExecutionProviderSelector"/>).</summary>
/// <param name="UsesCuda">True when sessions get ONNX Runtime's CUDA execution provider on device 0.</param>
/// <param name="Detail">Why: the device, or what kept CUDA out (missing libraries by file name, the CPU build, the setting).</param>
public sealed record ExecutionProviderChoice(bool UsesCuda, string Detail)
{
    /// <summary>The value of the <c>provider</c> label on <c>bananalab_inference_execution_provider</c>: <c>cuda</c> or <c>cpu</c>.</summary>
    public string Label => UsesCuda ? "cuda" : "cpu";
}

/// <summary>
/// Decides between ONNX Runtime's CUDA and CPU execution providers, once per process and setting. CUDA is chosen
/// only when this build has the CUDA provider (<c>-p:OnnxRuntimeFlavor=Gpu</c>), every library it needs loads
/// (<see cref="CudaLibraries"/>), and ONNX Runtime accepts it on device 0. Otherwise the choice says, by file name,
/// what is missing, so <c>Auto</c> can log it and <c>Cuda</c> can refuse to start with it.
/// </summary>
public sealed class ExecutionProviderSelector
{
    /// <summary>The process's selector, over the real ONNX Runtime and the real dynamic loader.</summary>
    public static ExecutionProviderSelector Default { get; } = new();

    /// <summary>
    /// The shared libraries the CUDA provider of <c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c> 1.31.0 needs, with the part each
    /// belongs to: the <c>NEEDED</c> entries of its <c>libonnxruntime_providers_cuda.so</c> (<c>readelf -d</c>) outside glibc
    /// and libstdc++, and cuDNN, which it opens at run time. ONNX Runtime 1.31 is built for CUDA 13.x and cuDNN 9.x.
    /// </summary>
    public static IReadOnlyList<(string File, string Part)> CudaLibraries { get; } =
    [
        ("libcuda.so.1", "the NVIDIA driver"),
        ("libcudart.so.13", "CUDA 13"),
        ("libcublas.so.13", "CUDA 13"),
        ("libcublasLt.so.13", "CUDA 13"),
        ("libcurand.so.10", "CUDA 13"),
        ("libcudnn.so.9", "cuDNN 9"),
    ];

    private readonly Func<IReadOnlyCollection<string>> _availableProviders;
    private readonly Func<string, bool> _canLoad;
    private readonly Func<string?> _appendCuda;
    private readonly ConcurrentDictionary<InferenceExecutionProvider, ExecutionProviderChoice> _choices = new();

    private ExecutionProviderSelector() : this(() => OrtEnv.Instance().GetAvailableProviders(), CanLoad, AppendCuda)
    {
    }

    /// <summary>A selector over given facts (tests): the build's provider names, whether a library file loads, and the error of appending CUDA (null = accepted).</summary>
    internal ExecutionProviderSelector(Func<IReadOnlyCollection<string>> availableProviders, Func<string, bool> canLoad, Func<string?> appendCuda)
    {
        _availableProviders = availableProviders;
        _canLoad = canLoad;
        _appendCuda = appendCuda;
    }

    /// <summary>The choice for <paramref name="setting"/>, worked out on the first call and the same ever after.</summary>
    public ExecutionProviderChoice Select(InferenceExecutionProvider setting) => _choices.GetOrAdd(setting, Decide);

    private ExecutionProviderChoice Decide(InferenceExecutionProvider setting)
    {
        if (setting == InferenceExecutionProvider.Cpu)
            return new(false, $"{InferenceOptions.Section}:{nameof(InferenceOptions.ExecutionProvider)} is Cpu");
        if (!_availableProviders().Contains(CudaProvider))
            return new(false, "this build has ONNX Runtime's CPU package (build with -p:OnnxRuntimeFlavor=Gpu for CUDA)");
        if (OperatingSystem.IsLinux())
        {
            var missing = CudaLibraries.Where(library => !_canLoad(library.File)).ToList();
            if (missing.Count > 0)
                return new(false, "CUDA could not load: missing " + string.Join(", ", missing.GroupBy(m => m.Part)
                    .Select(part => $"{string.Join(", ", part.Select(m => m.File))} ({part.Key})")));
        }
        return _appendCuda() is { } error ? new(false, $"CUDA could not load: {error}") : new(true, "CUDA device 0");
    }

    internal const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>Whether the dynamic loader finds and loads <paramref name="file"/> (a bare name: the system's search path).</summary>
    internal static bool CanLoad(string file)
    {
        if (!NativeLibrary.TryLoad(file, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }

    private static string? AppendCuda()
    {
        try
        {
            using var probe = new SessionOptions();
            probe.AppendExecutionProvider_CUDA(0);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return e.Message.Split('\n')[0].Trim();
        }
    }
}
