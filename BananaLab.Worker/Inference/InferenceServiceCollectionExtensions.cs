using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.Schedulers;
using BananaLab.Worker.Inference.StableDiffusion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Inference;

public static class InferenceServiceCollectionExtensions
{
    public const string ProviderKey = "onnx";

    /// <summary>Local ONNX Runtime inference: the <c>onnx</c> image generator and its shared sessions.</summary>
    public static IHostApplicationBuilder AddBananaLabInference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().Bind(builder.Configuration.GetSection(InferenceOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<ModelCatalogOptions>, SchedulerCatalogValidator>();
        builder.Services.AddSingleton<OnnxSessionFactory>();
        builder.Services.AddHostedService<ExecutionProviderReport>();
        builder.Services.AddSingleton(sp => new StableDiffusionModelCache(
            sp.GetRequiredService<OnnxSessionFactory>(), sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        builder.Services.AddSingleton(sp => new StableDiffusionPipeline(sp.GetRequiredService<StableDiffusionModelCache>(),
            sp.GetRequiredService<ILogger<StableDiffusionPipeline>>()));
        builder.Services.AddImageGenerator<OnnxImageGenerator>();
        return builder;
    }
}
