using BananaLab.Core.Health;
using BananaLab.Core.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Data;

/// <summary>Applies migrations and creates the bootstrap admin before anything else starts.</summary>
public sealed class DatabaseInitializer(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    IDatabaseProvider database,
    UserService users,
    ApiKeyService apiKeys,
    IOptions<BootstrapOptions> bootstrap,
    Readiness readiness,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            await database.MigrateAsync(db, cancellationToken);
        await BootstrapAdminOnceAsync(cancellationToken);
        readiness.DatabaseReady = true;
    }

    /// <summary>
    /// Several nodes of one cluster start together on one database (the provider serializes their
    /// migrations). If another node creates the admin or its key at the same moment, the unique index
    /// refuses the second copy, and a second pass finds the first.
    /// </summary>
    private async Task BootstrapAdminOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await BootstrapAdminAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (database.IsUniqueViolation(e))
        {
            logger.LogInformation("Another node created the bootstrap admin at the same time; using theirs");
            await BootstrapAdminAsync(cancellationToken);
        }
    }

    private async Task BootstrapAdminAsync(CancellationToken cancellationToken)
    {
        var options = bootstrap.Value;
        if (string.IsNullOrWhiteSpace(options.AdminEmail)) return;
        var admin = await users.FindByEmailAsync(options.AdminEmail, cancellationToken);
        if (admin is null)
        {
            admin = await users.CreateAsync(options.AdminEmail, "Administrator", UserRole.Admin,
                string.IsNullOrEmpty(options.AdminPassword) ? null : options.AdminPassword, options.InitialCredits, cancellationToken);
            logger.LogInformation("Created the bootstrap admin {Email} with {Credits} credits", admin.Email, options.InitialCredits);
        }
        else if (admin.PasswordHash is null && !string.IsNullOrEmpty(options.AdminPassword))
        {
            // First started without a password (API only); a password given later lets the admin sign in to the studio.
            await users.SetPasswordAsync(admin.Id, options.AdminPassword, cancellationToken);
            logger.LogInformation("Set the studio password of the bootstrap admin {Email}", admin.Email);
        }
        if (!string.IsNullOrWhiteSpace(options.AdminApiKey))
            await apiKeys.EnsureAsync(admin.Id, "bootstrap", options.AdminApiKey.Trim(), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
