using System.Net;
using System.Net.Http.Headers;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Hosting;

/// <summary>
/// <c>dotnet run --project BananaLab.Web -- create-api-key EMAIL</c>, typed as the README says: it names the database it
/// uses, refuses one the app never set up (instead of creating it), and its key works on the running server.
/// </summary>
public sealed class CreateApiKeyCommandTests
{
    [Fact]
    public async Task Without_the_apps_settings_it_names_the_database_and_refuses_instead_of_creating_one()
    {
        using var empty = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["Storage:DataDirectory"] = empty.Path };

        var (exitCode, output, errors) = await ProductionHost.RunCommandAsync(settings, "create-api-key", ProductionHost.AdminEmail);

        Assert.Equal(1, exitCode);
        Assert.Equal("", output.Trim());
        Assert.Contains($"Using the SQLite file {Path.Combine(empty.Path, "bananalab.db")}.", errors);
        Assert.Contains("does not exist", errors);
        Assert.Empty(Directory.GetFiles(empty.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task On_a_postgresql_database_the_app_never_set_up_it_names_it_and_refuses()
    {
        var postgres = await PostgresServer.Shared;
        var connectionString = await postgres.CreateDatabaseAsync();
        var database = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database;
        var settings = new Dictionary<string, string?> { ["Database:Provider"] = "Postgres", ["ConnectionStrings:BananaLab"] = connectionString };

        var (exitCode, _, errors) = await ProductionHost.RunCommandAsync(settings, "create-api-key", ProductionHost.AdminEmail);

        Assert.Equal(1, exitCode);
        Assert.Contains($"Using the PostgreSQL database {database} on 127.0.0.1:{postgres.Port}.", errors);
        Assert.True(errors.Contains("That database has not been set up by"), errors);
    }

    [Fact]
    public async Task With_the_apps_settings_it_prints_a_key_the_running_server_accepts()
    {
        await using var host = await ProductionHost.StartReadmeAsync();

        var (exitCode, output, errors) = await ProductionHost.RunCommandAsync(host.Settings, "create-api-key", ProductionHost.AdminEmail, "ops");

        Assert.True(exitCode == 0, errors);
        Assert.Contains($"Using the SQLite file {Path.Combine(host.DataDirectory, "bananalab.db")}.", errors);
        var key = output.Trim();
        Assert.StartsWith("bl_", key);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/credits")).StatusCode);

        var unknown = await ProductionHost.RunCommandAsync(host.Settings, "create-api-key", "nobody@example.test");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No user with the email nobody@example.test", unknown.Errors);
    }
}
