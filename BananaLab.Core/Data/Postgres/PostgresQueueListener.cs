using BananaLab.Core.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BananaLab.Core.Data.Postgres;

/// <summary>
/// Holds one connection that <c>LISTEN</c>s on <see cref="PostgresDatabaseProvider.QueueChannel"/> and
/// wakes this process's idle claim loops as soon as any node queues a task (submit, retry, recovery),
/// so workers do not have to poll. If the connection drops, the loops fall back to their poll interval
/// until it is back.
/// </summary>
public sealed class PostgresQueueListener(
    PostgresDatabaseProvider database,
    TaskQueueSignal signal,
    ILogger<PostgresQueueListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retryDelay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(
                    new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 15 }.ConnectionString);
                connection.Notification += (_, _) => signal.Notify();
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresDatabaseProvider.QueueChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                logger.LogInformation("Listening for queued tasks on {Channel}", PostgresDatabaseProvider.QueueChannel);
                // Anything queued while the connection was down is claimable now.
                signal.Notify();
                while (true) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "The queue listener lost its connection; workers poll until it is back");
                await Task.Delay(retryDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
