using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tools.Screenshots;

/// <summary>
/// The real app in this process on a free loopback port, on a fresh data directory, with a demo user whose
/// tasks are generated for real on the embedded model, so every page has something to show.
/// </summary>
sealed class DemoApp(string repositoryRoot, string dataDirectory) : WebApplicationFactory<Program>
{
    public const string Model = "banana-nano";
    public const string AdminEmail = "admin@bananalab.local";
    public const string UserEmail = "demo@bananalab.local";

    /// <summary>Both demo accounts get this password; it lives only as long as the data directory.</summary>
    public string Password { get; } = "demo-" + Guid.NewGuid().ToString("N")[..16];

    private static readonly (string Prompt, int Count, long Seed)[] DemoPrompts =
    [
        ("a red apple", 1, 7),
        ("a smiling sun", 2, 11),
        ("a green frog", 1, 3),
        ("a slice of pizza", 4, 42),
    ];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseContentRoot(repositoryRoot);
        // Run from the build output, not a publish folder: serve the stylesheets and scripts from the projects.
        builder.UseStaticWebAssets();
        foreach (var (key, value) in new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = Password,
            ["Bootstrap:AdminApiKey"] = "",
            ["Api:DefaultModel"] = Model,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Worker:PollIntervalMs"] = "100",
        }) builder.UseSetting(key, value);
    }

    /// <summary>Starts the host on 127.0.0.1 and returns its address.</summary>
    public Uri Start()
    {
        UseKestrel(0);
        StartServer();
        return ClientOptions.BaseAddress;
    }

    /// <summary>
    /// The demo user with an API key, an admin adjustment, finished tasks and one blocked prompt;
    /// returns the last finished task (the one with the most images).
    /// </summary>
    public async Task<Guid> SeedAsync(CancellationToken cancellationToken)
    {
        var users = Services.GetRequiredService<UserService>();
        var tasks = Services.GetRequiredService<TaskService>();
        var admin = await users.FindByEmailAsync(AdminEmail, cancellationToken)
            ?? throw new InvalidOperationException("The bootstrap admin was not created.");
        var user = await users.CreateAsync(UserEmail, "Dana Demo", UserRole.User, Password, cancellationToken: cancellationToken);
        await Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "laptop", cancellationToken);
        await Services.GetRequiredService<CreditLedger>().AdjustAsync(user.Id, 50, "Welcome bonus for the demo", admin.Id, cancellationToken);

        var last = Guid.Empty;
        foreach (var (prompt, count, seed) in DemoPrompts)
        {
            var submitted = await tasks.SubmitAsync(user.Id, new SubmitTaskRequest
            {
                ModelId = Model, Prompt = prompt, Size = "1K", ImageCount = count, Seed = seed, Source = "studio",
            }, cancellationToken);
            if (!submitted.Succeeded) throw new InvalidOperationException($"Submitting \"{prompt}\" failed: {submitted.Error!.Message}");
            var done = await tasks.WaitAsync(submitted.Value!.Id, user.Id, TimeSpan.FromMinutes(5), cancellationToken);
            if (done?.Status != GenerationTaskStatus.Succeeded)
                throw new InvalidOperationException($"Generating \"{prompt}\" ended as {done?.Status}: {done?.Task.ErrorMessage}");
            last = done.Id;
            Console.WriteLine($"  generated \"{prompt}\" ({count} image{(count == 1 ? "" : "s")})");
        }
        // Refused before it is queued: it shows in the history and the moderation log, and costs nothing.
        await tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = Model, Prompt = "a gruesome monster", Source = "studio" }, cancellationToken);
        return last;
    }
}
