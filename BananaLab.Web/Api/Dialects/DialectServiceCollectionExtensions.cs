using BananaLab.Web.Api.Files;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Dialects;

public static class DialectServiceCollectionExtensions
{
    /// <summary>What the compatibility dialects share: their options, task outputs and signed image URLs.</summary>
    public static IHostApplicationBuilder AddBananaLabDialects(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        builder.Services.AddSingleton<TaskOutputs>();
        builder.AddSignedImageUrls();
        builder.UseBodyLimit();
        return builder;
    }
}
