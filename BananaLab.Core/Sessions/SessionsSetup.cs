using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Sessions;

public static class SessionsSetup
{
    /// <summary>Session keys of the session interface (their store is the cluster's: see <c>Cluster/ClusterSetup.cs</c>).</summary>
    public static IHostApplicationBuilder AddBananaLabSessions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SessionOptions>().Bind(builder.Configuration.GetSection(SessionOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ClientSessionService>();
        return builder;
    }
}
