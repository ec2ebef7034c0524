using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.Upscaling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Finishing;

public static class FinishingServiceCollectionExtensions
{
    /// <summary>
    /// The finishing step every provider's images go through, with its x4 super-resolution model
    /// (<c>Inference:UpscalerPath</c>, on the ONNX Runtime sessions of <c>AddBananaLabInference</c>).
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabFinishing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<InferenceOptions>>().Value;
            var root = sp.GetRequiredService<IHostEnvironment>().ContentRootPath;
            var path = Path.IsPathRooted(options.UpscalerPath) ? options.UpscalerPath : Path.Combine(root, options.UpscalerPath);
            return new SuperResolutionUpscaler(sp.GetRequiredService<OnnxSessionFactory>(), path, options.UpscalerPath,
                sp.GetRequiredService<ILogger<SuperResolutionUpscaler>>());
        });
        builder.Services.AddSingleton<ImageFinisher>();
        return builder;
    }
}
