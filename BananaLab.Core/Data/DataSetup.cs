using BananaLab.Core.Data.Postgres;
using BananaLab.Core.Health;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Data;

public static class DataSetup
{
    /// <summary>
    /// One database engine per process, chosen by <c>Database:Provider</c>, and its start-up: migrations and the
    /// bootstrap admin (<see cref="DatabaseInitializer"/>), reported to <c>/readyz</c> by <see cref="Readiness"/>.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabDatabase(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = DatabaseOptions.Read(builder.Configuration);
        services.AddSingleton(options);
        switch (options.Provider)
        {
            case DatabaseEngine.Postgres:
                services.AddSingleton<PostgresDatabaseProvider>();
                services.AddSingleton<IDatabaseProvider>(provider => provider.GetRequiredService<PostgresDatabaseProvider>());
                services.AddPooledDbContextFactory<PostgresDbContext>((provider, db) =>
                    provider.GetRequiredService<IDatabaseProvider>().Configure(db));
                services.AddSingleton<IDbContextFactory<BananaLabDbContext>, DerivedDbContextFactory<PostgresDbContext>>();
                break;
            default:
                services.AddSingleton<IDatabaseProvider, SqliteDatabaseProvider>();
                services.AddPooledDbContextFactory<BananaLabDbContext>((provider, db) =>
                    provider.GetRequiredService<IDatabaseProvider>().Configure(db));
                break;
        }
        services.AddSingleton<Readiness>();
        services.AddHostedService<DatabaseInitializer>();
        return builder;
    }
}
