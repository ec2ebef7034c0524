using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace BananaLab.Core.Data.Postgres;

/// <summary>
/// The same model as <see cref="BananaLabDbContext"/>; a type of its own so that PostgreSQL has its own
/// migrations (in <c>Data/Postgres/Migrations</c>) beside SQLite's. Code everywhere else sees a
/// <see cref="BananaLabDbContext"/>.
/// </summary>
public sealed class PostgresDbContext(DbContextOptions<PostgresDbContext> options) : BananaLabDbContext(options);

/// <summary>
/// Used only by <c>dotnet ef migrations add X --context PostgresDbContext</c>; adding a migration never
/// connects, so the connection string only has to parse.
/// </summary>
internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<PostgresDbContext>
{
    public PostgresDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresDbContext>();
        PostgresDatabaseProvider.Configure(options, "Host=127.0.0.1;Database=bananalab_design");
        return new PostgresDbContext(options.Options);
    }
}

/// <summary>Hands out the provider's derived context wherever the code asks for a <see cref="BananaLabDbContext"/>.</summary>
internal sealed class DerivedDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<BananaLabDbContext>
    where TContext : BananaLabDbContext
{
    public BananaLabDbContext CreateDbContext() => inner.CreateDbContext();

    public async Task<BananaLabDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await inner.CreateDbContextAsync(cancellationToken);
}
