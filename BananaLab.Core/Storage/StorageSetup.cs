using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Storage;

public static class StorageSetup
{
    /// <summary>The data directory (<see cref="StorageOptions"/>) and the image files in it (<see cref="ImageStore"/>).</summary>
    public static IHostApplicationBuilder AddBananaLabStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>().Bind(builder.Configuration.GetSection(StorageOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ImageStore>();
        return builder;
    }
}
