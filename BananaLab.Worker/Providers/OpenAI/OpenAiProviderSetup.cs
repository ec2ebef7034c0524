using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Providers.OpenAI;

public static class OpenAiProviderSetup
{
    /// <summary>
    /// The <c>openai</c> provider: its generator, the check of its catalog entries at start, and the named
    /// <see cref="HttpClient"/> the SDK sends through. The client has no timeout of its own: the SDK's network timeout is each
    /// model's <c>TimeoutSeconds</c>, which may be longer than HttpClient's default 100 s (GPT Image at high quality can be).
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabOpenAiProvider(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidateOptions<ModelCatalogOptions>, OpenAiCatalogValidator>();
        builder.Services.AddHttpClient(OpenAiImageGenerator.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddImageGenerator<OpenAiImageGenerator>();
        return builder;
    }
}
