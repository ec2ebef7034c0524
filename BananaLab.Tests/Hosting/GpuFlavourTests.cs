using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference.Runtime;

namespace BananaLab.Tests.Hosting;

/// <summary>
/// The GPU flavour (<c>-p:OnnxRuntimeFlavor=Gpu</c>, <c>Microsoft.ML.OnnxRuntime.Gpu</c> 1.31.0) built and started the
/// way the README tells a CUDA host to, on every test run. This machine has no CUDA libraries, so <c>Auto</c> must say so
/// in one line and generate on the CPU, and <c>Cuda</c> must stop start-up naming the missing files. On a host that
/// has them, the same test checks that CUDA is used instead.
/// </summary>
public sealed class GpuFlavourTests
{
    [Fact]
    public async Task The_gpu_flavour_builds_falls_back_to_the_cpu_in_one_line_and_generates()
    {
        await ProductionHost.BuildGpuFlavourAsync();
        await using var host = await ProductionHost.StartGpuFlavourAsync(new Dictionary<string, string?> { ["Inference:ExecutionProvider"] = "Auto" });
        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };

        var providerLines = host.RecentLog.Split('\n').Where(line => line.Contains("Inference runs on")).ToList();
        var metrics = await client.GetStringAsync("/metrics");
        if (HostHasCuda)
        {
            Assert.Contains("Inference runs on CUDA: CUDA device 0", Assert.Single(providerLines));
            Assert.Contains("bananalab_inference_execution_provider{provider=\"cuda\"", metrics);
        }
        else
        {
            Assert.Contains("Inference runs on the CPU: CUDA could not load: missing ", Assert.Single(providerLines));
            Assert.Contains("libcudart.so.13", providerLines[0]);
            Assert.Contains("libcudnn.so.9 (cuDNN 9)", providerLines[0]);
            Assert.Contains("bananalab_inference_execution_provider{provider=\"cpu\"", metrics);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ProductionHost.AdminApiKey);
        var response = await client.PostAsJsonAsync("/v1/images/generations",
            new { model = "banana-nano", prompt = "a yellow banana", size = "1024x1024", response_format = "b64_json" });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}{Environment.NewLine}{host.RecentLog}");
        var png = Convert.FromBase64String((await response.ReadJsonAsync()).GetProperty("data")[0].GetProperty("b64_json").GetString()!);
        using var image = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal((1024, 1024), (image.Width, image.Height));
    }

    [Fact]
    public async Task The_gpu_flavour_with_cuda_required_stops_start_up_naming_the_missing_libraries()
    {
        if (HostHasCuda) return; // Cuda starts on such a host; the test above checks it is used.
        await ProductionHost.BuildGpuFlavourAsync();
        using var data = new TempDirectory();

        var (exitCode, output) = await ProductionHost.RunGpuFlavourToEndAsync(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = data.Path,
            ["Inference:ExecutionProvider"] = "Cuda",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("BananaLab did not start: Inference:ExecutionProvider is Cuda, but CUDA could not load: missing ", output);
        foreach (var (file, _) in ExecutionProviderSelector.CudaLibraries.Where(library => !ExecutionProviderSelector.CanLoad(library.File)))
            Assert.Contains(file, output);
    }

    private static bool HostHasCuda => ExecutionProviderSelector.CudaLibraries.All(library => ExecutionProviderSelector.CanLoad(library.File));
}
