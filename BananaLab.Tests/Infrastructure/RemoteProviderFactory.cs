using BananaLab.Core.Generation;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace BananaLab.Tests.Infrastructure;

/// <summary>The app with a second provider beside the scripted one: <see cref="RemoteModel"/>, run by <see cref="RemoteLikeGenerator"/>.</summary>
public class RemoteProviderFactory : BananaLabFactory
{
    public const string RemoteModel = "remote-model";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        [$"Models:{RemoteModel}:DisplayName"] = "Remote-like model",
        [$"Models:{RemoteModel}:Provider"] = RemoteLikeGenerator.Name,
        [$"Models:{RemoteModel}:NativeWidth"] = "512",
        [$"Models:{RemoteModel}:NativeHeight"] = "512",
        [$"Models:{RemoteModel}:Tiers:1K"] = "3",
        [$"Models:{RemoteModel}:Tiers:2K"] = "6",
        [$"Models:{RemoteModel}:MaxImages"] = "4",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddImageGenerator<RemoteLikeGenerator>());
    }
}
