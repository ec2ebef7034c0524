using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.KeyRing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tests.Hosting;

/// <summary>The data-protection key ring lives in the database, is ready before anything reads it, and survives an upgrade from key files.</summary>
public sealed class KeyRingTests
{
    [Fact]
    public void The_key_ring_is_made_ready_right_after_the_migrations_and_before_data_protection_reads_it()
    {
        using var factory = new BananaLabFactory();
        var order = factory.Services.GetServices<IHostedService>().Select(s => s.GetType()).ToList();

        var migrations = order.IndexOf(typeof(DatabaseInitializer));
        Assert.Equal(migrations + 1, order.IndexOf(typeof(KeyRingInitializer)));
        Assert.All(order.Where(t => t.Namespace?.StartsWith("Microsoft.AspNetCore.DataProtection") == true),
            t => Assert.True(order.IndexOf(t) > migrations + 1, $"{t.Name} starts before the key ring is ready"));
    }

    [Fact]
    public async Task A_fresh_install_keeps_exactly_one_key_in_the_database_across_restarts()
    {
        using var data = new TempDirectory();
        for (var start = 0; start < 2; start++)
        {
            using var factory = new RestartedFactory(data.Path);
            _ = factory.Server;
            await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
            Assert.Equal(1, await db.DataProtectionKeys.CountAsync());
        }
        Assert.False(Directory.Exists(Path.Combine(data.Path, "keys")), "keys were written to files as well as the database");
    }

    [Fact]
    public async Task An_install_upgrading_from_key_files_keeps_the_links_it_signed_before()
    {
        using var data = new TempDirectory();
        // What the previous version did: keys in DATA/keys, links protected with the app's name and purpose.
        var old = new ServiceCollection();
        old.AddDataProtection().SetApplicationName("BananaLab").PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(data.Path, "keys")));
        await using var oldServices = old.BuildServiceProvider();
        var oldProtector = oldServices.GetRequiredService<IDataProtectionProvider>()
            .CreateProtector("BananaLab.SignedImageUrls").ToTimeLimitedDataProtector();
        oldProtector.Protect("a link of the previous version", TimeSpan.FromMinutes(10)); // its first use wrote the key file
        Assert.Single(Directory.GetFiles(Path.Combine(data.Path, "keys"), "*.xml"));

        using var factory = new RestartedFactory(data.Path);
        using var client = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "a banana before the upgrade", count = 1 });
        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(created.Id)).Status);

        var token = oldProtector.Protect($"{created.Id:N}.0", TimeSpan.FromMinutes(10));
        using var anonymous = factory.CreateClient();
        var response = await anonymous.GetAsync($"/files/{token}");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);

        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.DataProtectionKeys.CountAsync());
    }

    private sealed class RestartedFactory(string dataDirectory) : BananaLabFactory(dataDirectory);
}
