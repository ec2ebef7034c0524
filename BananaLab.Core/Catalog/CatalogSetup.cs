using BananaLab.Core.Generation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Catalog;

public static class CatalogSetup
{
    /// <summary>
    /// The models offered (<c>Models</c> in appsettings.json), validated at start, and what each one's provider takes
    /// (<see cref="GenerationProviders"/>, <see cref="GenerationOffers"/>).
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelCatalogOptions>()
            .Configure(options => builder.Configuration.GetSection(ModelCatalogOptions.Section).Bind(options.Models))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ModelCatalogOptions>, ModelCatalogOptionsValidator>();
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<GenerationProviders>();
        builder.Services.AddSingleton<GenerationOffers>();
        return builder;
    }
}
