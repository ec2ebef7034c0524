using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.Runtime;

namespace BananaLab.Tests.Inference.Runtime;

/// <summary>
/// How the CUDA-or-CPU choice reads each fact of a host. The real facts (this CPU build, the GPU build on a host without
/// CUDA) are covered end to end by <c>GpuFlavourTests</c>; these cover the hosts CI cannot be, such as one with CUDA
/// but not cuDNN.
/// </summary>
public sealed class ExecutionProviderSelectorTests
{
    private static readonly string[] GpuBuild = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"];

    [Fact]
    public void The_cpu_build_runs_on_the_cpu_and_says_which_build_property_brings_cuda()
    {
        var choice = ExecutionProviderSelector.Default.Select(InferenceExecutionProvider.Auto);

        Assert.False(choice.UsesCuda);
        Assert.Equal("cpu", choice.Label);
        Assert.Contains("-p:OnnxRuntimeFlavor=Gpu", choice.Detail);
    }

    [Fact]
    public void Cuda_on_the_cpu_build_stops_start_up_naming_the_key_and_the_build_property()
    {
        var result = new InferenceOptionsValidator().Validate(null, new InferenceOptions { ExecutionProvider = InferenceExecutionProvider.Cuda });

        Assert.True(result.Failed);
        Assert.Contains("Inference:ExecutionProvider is Cuda, but this build has ONNX Runtime's CPU package", result.FailureMessage);
        Assert.Contains("-p:OnnxRuntimeFlavor=Gpu", result.FailureMessage);
    }

    [Fact]
    public void A_gpu_build_without_cudnn_names_the_cudnn_file_and_nothing_else()
    {
        var selector = new ExecutionProviderSelector(() => GpuBuild, file => file != "libcudnn.so.9", () => null);

        var choice = selector.Select(InferenceExecutionProvider.Auto);

        Assert.False(choice.UsesCuda);
        Assert.Equal("CUDA could not load: missing libcudnn.so.9 (cuDNN 9)", choice.Detail);
    }

    [Fact]
    public void A_gpu_build_on_a_host_without_cuda_names_every_missing_file_by_part()
    {
        var selector = new ExecutionProviderSelector(() => GpuBuild, _ => false, () => "never asked");

        var result = new InferenceOptionsValidator(selector).Validate(null, new InferenceOptions { ExecutionProvider = InferenceExecutionProvider.Cuda });

        Assert.True(result.Failed);
        Assert.Contains("missing libcuda.so.1 (the NVIDIA driver), libcudart.so.13, libcublas.so.13, libcublasLt.so.13, " +
                        "libcurand.so.10 (CUDA 13), libcudnn.so.9 (cuDNN 9)", result.FailureMessage);
    }

    [Fact]
    public void Libraries_that_load_but_a_provider_onnx_runtime_refuses_fall_back_with_its_reason()
    {
        var selector = new ExecutionProviderSelector(() => GpuBuild, _ => true, () => "CUDA failure 100: no CUDA-capable device is detected");

        var choice = selector.Select(InferenceExecutionProvider.Auto);

        Assert.False(choice.UsesCuda);
        Assert.Equal("CUDA could not load: CUDA failure 100: no CUDA-capable device is detected", choice.Detail);
    }

    [Fact]
    public void A_host_with_everything_uses_cuda_and_cpu_setting_never_probes()
    {
        var probes = 0;
        var selector = new ExecutionProviderSelector(() => GpuBuild, _ => { probes++; return true; }, () => null);

        Assert.Equal(new ExecutionProviderChoice(false, "Inference:ExecutionProvider is Cpu"), selector.Select(InferenceExecutionProvider.Cpu));
        Assert.Equal(0, probes);
        var cuda = selector.Select(InferenceExecutionProvider.Auto);
        Assert.True(cuda.UsesCuda);
        Assert.Equal("cuda", cuda.Label);
        Assert.Same(cuda, selector.Select(InferenceExecutionProvider.Auto));
        Assert.Equal(ExecutionProviderSelector.CudaLibraries.Count, probes);
    }
}
