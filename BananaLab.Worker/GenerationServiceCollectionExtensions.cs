using BananaLab.Worker.Finishing;
using BananaLab.Worker.Inference;
using BananaLab.Worker.Moderation;
using BananaLab.Worker.Providers.Automatic1111;
using BananaLab.Worker.Providers.Gemini;
using BananaLab.Worker.Providers.OpenAI;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Worker;

public static class GenerationServiceCollectionExtensions
{
    /// <summary>
    /// Everything that makes images, composed the same way in a web host and a worker process: the worker (when
    /// <c>Worker:Enabled</c>), the ONNX Runtime with its <c>onnx</c> provider, the finishing step every provider's images go
    /// through, and the image classifier. Web nodes whose worker is off register the providers too: submission reads their
    /// capabilities. A new provider adds its registration here, one line.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabGeneration(this IHostApplicationBuilder builder)
    {
        builder.AddBananaLabWorker();
        builder.AddBananaLabInference();
        builder.Services.AddBananaLabGeminiProvider();
        builder.Services.AddBananaLabAutomatic1111Provider();
        builder.AddBananaLabOpenAiProvider();
        builder.AddBananaLabFinishing();
        builder.AddBananaLabImageModeration();
        return builder;
    }
}
