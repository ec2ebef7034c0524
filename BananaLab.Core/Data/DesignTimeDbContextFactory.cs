using BananaLab.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Data;

/// <summary>Used only by <c>dotnet ef migrations add</c>; the app builds its contexts through the factory in DI.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<BananaLabDbContext>
{
    public BananaLabDbContext CreateDbContext(string[] args)
    {
        var provider = new SqliteDatabaseProvider(Options.Create(new StorageOptions { DataDirectory = Path.GetTempPath() }));
        var options = new DbContextOptionsBuilder<BananaLabDbContext>();
        provider.Configure(options);
        return new BananaLabDbContext(options.Options);
    }
}
