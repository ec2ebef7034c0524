using BananaLab.Core.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Web.KeyRing;

/// <summary>
/// One ASP.NET Core data-protection key ring for every web node of a cluster. It signs sign-in cookies,
/// antiforgery tokens and signed image links (<c>/files/{token}</c>), so every node must read the same
/// keys or a cookie or link made on one node is refused on another.
/// <list type="bullet">
/// <item>The keys live in the database every node shares (<c>DataProtectionKeys</c>, through
/// <c>Microsoft.AspNetCore.DataProtection.EntityFrameworkCore</c>), not in files that nodes race on.</item>
/// <item>Every node uses one application name, so they all derive the same protectors.</item>
/// <item><see cref="KeyRingInitializer"/> runs at start, after the migrations and before anything reads the
/// ring. It makes sure the ring has a key, and it holds a cluster-wide lock while doing so, so nodes that start
/// together find one key instead of each creating its own.</item>
/// </list>
/// </summary>
public static class KeyRingSetup
{
    /// <summary>The data-protection application name of every node (the discriminator of all its protectors).</summary>
    public const string ApplicationName = "BananaLab";

    public static IHostApplicationBuilder AddBananaLabKeyRing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // The EF Core key repository resolves its context from a scope, once per read or write of the ring.
        services.AddScoped(provider => provider.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContext());
        services.AddDataProtection().SetApplicationName(ApplicationName).PersistKeysToDbContext<BananaLabDbContext>();

        // Hosted services start in the order they were added. The key ring is read first by DataProtection's
        // own start-up service and by the first request, so its initializer goes right behind the migrations.
        var migrations = services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DatabaseInitializer));
        services.Insert(services.IndexOf(migrations) + 1, ServiceDescriptor.Singleton<IHostedService, KeyRingInitializer>());
        return builder;
    }
}
