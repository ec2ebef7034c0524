using BananaLab.Core.Data;
using BananaLab.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using IDatabaseProvider = BananaLab.Core.Data.IDatabaseProvider;

namespace BananaLab.Web.Commands;

/// <summary>
/// <c>dotnet run --project BananaLab.Web -- create-api-key &lt;email&gt; [key name]</c> prints a new key for that user.
/// It reads the same settings as the app (appsettings.json, <c>appsettings.Production.json</c>, environment
/// variables), says which database it uses, and refuses a database the app has not set up: run without the
/// cluster's settings, it would otherwise have created an empty <c>./data/bananalab.db</c> and printed a key no
/// server knows. Exit codes: 0 printed, 1 refused (no such database or user), 2 usage.
/// </summary>
public static class CreateApiKeyCommand
{
    public const string Name = "create-api-key";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Name;

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        if (args.Length < 2 || !args[1].Contains('@'))
        {
            await Console.Error.WriteLineAsync($"usage: {Name} <email> [key name]");
            return 2;
        }
        var database = app.Services.GetRequiredService<IDatabaseProvider>();
        await Console.Error.WriteLineAsync($"Using the {database.Description}.");
        if (await RefusalAsync(app.Services) is { } refusal)
        {
            await Console.Error.WriteLineAsync(refusal);
            return 1;
        }

        var user = await app.Services.GetRequiredService<UserService>().FindByEmailAsync(args[1]);
        if (user is null)
        {
            await Console.Error.WriteLineAsync($"No user with the email {args[1]} in this database.");
            return 1;
        }
        var created = await app.Services.GetRequiredService<ApiKeyService>()
            .CreateAsync(user.Id, args.Length > 2 ? args[2] : "command line");
        Console.WriteLine(created.Secret);
        return 0;
    }

    /// <summary>Why this database is not one the app runs on (missing, or never migrated), or null when it is.</summary>
    private static async Task<string?> RefusalAsync(IServiceProvider services)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        const string hint = "Start the app once against it, or run this command with the same settings as the app " +
            "(appsettings.Production.json or the same environment variables; see README, Scaling out).";
        // The creator's check opens nothing it would create (no SQLite file appears).
        if (!await db.GetService<IRelationalDatabaseCreator>().ExistsAsync())
            return $"That database does not exist, so no server uses it. {hint}";
        if (!await db.GetService<IHistoryRepository>().ExistsAsync())
            return $"That database has not been set up by BananaLab (it has no migration history). {hint}";
        var pending = (await db.Database.GetPendingMigrationsAsync()).Count();
        return pending == 0 ? null : $"That database has not been set up by this version of BananaLab ({pending} migrations pending). {hint}";
    }
}
