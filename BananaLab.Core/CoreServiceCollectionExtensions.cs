using BananaLab.Core.Catalog;
using BananaLab.Core.Cluster;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Core.Sessions;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Core.Webhooks;
using BananaLab.Core.Workers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// The domain, one feature at a time (each <c>AddBananaLabX</c> lives in its folder): database, catalog, credits,
    /// users, moderation and the task engine. The order matters for one thing only: hosted services start in the
    /// order they are added, and the database's start-up (migrations) comes before everything that reads it.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabCore(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddBananaLabStorage();
        builder.AddBananaLabCredits();
        builder.AddBananaLabUsers();
        builder.AddBananaLabCatalog();
        builder.AddBananaLabWorkerDirectory();
        builder.AddBananaLabModeration();
        builder.AddBananaLabSessions();
        builder.AddBananaLabWebhookOutbox();
        builder.AddBananaLabCluster();
        builder.AddBananaLabDatabase();
        builder.AddBananaLabTasks();
        return builder;
    }
}
