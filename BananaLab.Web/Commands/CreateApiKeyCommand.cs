using BananaLab.Core.Data;
using BananaLab.Core.Users;

namespace BananaLab.Web.Commands;

/// <summary><c>dotnet run --project BananaLab.Web -- create-api-key &lt;email&gt;</c> prints a new key for that user.</summary>
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
        var initializer = app.Services.GetServices<IHostedService>().OfType<DatabaseInitializer>().Single();
        await initializer.StartAsync(CancellationToken.None);

        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.FindByEmailAsync(args[1]);
        if (user is null)
        {
            await Console.Error.WriteLineAsync($"No user with the email {args[1]}.");
            return 1;
        }
        var created = await app.Services.GetRequiredService<ApiKeyService>()
            .CreateAsync(user.Id, args.Length > 2 ? args[2] : "command line");
        Console.WriteLine(created.Secret);
        return 0;
    }
}
