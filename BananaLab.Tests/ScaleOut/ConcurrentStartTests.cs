using BananaLab.Core.Health;
using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit.Abstractions;

namespace BananaLab.Tests.ScaleOut;

/// <summary>
/// Nodes of one cluster started at the same instant on an empty PostgreSQL database all come up: one
/// migrates, the others wait for it and find the schema done. (EF Core's own migration lock is taken
/// per migration, so two nodes could take turns and the second replay a migration the first had
/// already applied: "index IX_Tasks_Status_CreatedAt does not exist".)
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ConcurrentStartTests(ITestOutputHelper output)
{
    private const int Rounds = 6;
    private const int Nodes = 3;

    [Fact]
    public async Task Three_nodes_starting_together_on_an_empty_database_all_become_ready_every_time()
    {
        var postgres = await PostgresServer.Shared;
        for (var round = 0; round < Rounds; round++)
        {
            var connectionString = await postgres.CreateDatabaseAsync();
            var hosts = NodesOn(connectionString);
            try
            {
                using var go = new ManualResetEventSlim();
                var starts = hosts.Select(host => Task.Run(async () => { go.Wait(); await host.StartAsync(); })).ToList();
                go.Set();
                await Task.WhenAll(starts);
                Assert.All(hosts, host => Assert.True(host.Services.GetRequiredService<Readiness>().DatabaseReady));

                await using var db = await hosts[0].Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
                var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
                Assert.Equal(db.Database.GetMigrations(), applied);
                output.WriteLine($"round {round}: {Nodes} nodes ready, {applied.Count} migrations applied once");
            }
            finally
            {
                await StopAsync(hosts);
            }
        }
    }

    [Fact]
    public async Task Nodes_starting_together_create_a_database_that_does_not_exist_yet_once()
    {
        var postgres = await PostgresServer.Shared;
        var name = "t_new_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = postgres.ConnectionString(name);
        var hosts = NodesOn(connectionString);
        try
        {
            await Task.WhenAll(hosts.Select(host => Task.Run(() => host.StartAsync())));
            Assert.All(hosts, host => Assert.True(host.Services.GetRequiredService<Readiness>().DatabaseReady));
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
        }
        finally
        {
            await StopAsync(hosts);
        }
    }

    /// <summary>The core services of <see cref="Nodes"/> nodes on one PostgreSQL database, not started yet.</summary>
    private static List<IHost> NodesOn(string connectionString) => Enumerable.Range(0, Nodes)
        .Select(_ => ChildProcesses.CoreServices(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:BananaLab"] = connectionString,
        })).ToList();

    private static async Task StopAsync(IEnumerable<IHost> hosts)
    {
        foreach (var host in hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
