using System.Text.Json;
using BananaLab.Core.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BananaLab.Core.Cluster;

/// <summary>
/// Carries task events between the processes of a cluster over one Redis channel: what a worker
/// process publishes (progress with previews, start, success, failure) reaches every web node, which
/// hands it to the circuits and hub connections it holds; what a web node publishes (queued, canceled)
/// reaches the others. Each process skips its own messages, which it delivered locally already.
/// Redis pub/sub delivers one channel's messages in order, so a task's events arrive in the order its
/// worker published them.
/// </summary>
public sealed class RedisTaskEventRelay(
    IConnectionMultiplexer redis,
    TaskNotifier notifier,
    IOptions<ClusterOptions> options,
    ILogger<RedisTaskEventRelay> logger) : BackgroundService
{
    private readonly string _origin = Guid.NewGuid().ToString("N");
    private readonly RedisChannel _channel = RedisChannel.Literal(options.Value.RedisKey("task-events"));
    private long _lastSendFailureLog;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.GetSubscriber();
        using var forwarding = notifier.ForwardTo(Send);
        // The subscription survives reconnects once made; until Redis answers the first time, keep trying.
        ChannelMessageQueue? queue = null;
        while (queue is null)
        {
            try
            {
                queue = await subscriber.SubscribeAsync(_channel);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                logger.LogWarning("Cannot subscribe to task events on Redis yet ({Error}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        queue.OnMessage(Receive);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await queue.UnsubscribeAsync();
        }
    }

    private void Send(TaskEvent taskEvent)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new RelayedEvent(_origin, taskEvent));
        redis.GetSubscriber().PublishAsync(_channel, payload, CommandFlags.FireAndForget).ContinueWith(t =>
        {
            // At most one line per ten seconds while Redis is away; this process's own listeners still get every event.
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _lastSendFailureLog);
            if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastSendFailureLog, now, last) == last)
                logger.LogWarning(t.Exception, "Could not send task events to the other nodes");
        }, TaskContinuationOptions.OnlyOnFaulted);
    }

    private void Receive(ChannelMessage message)
    {
        RelayedEvent? relayed;
        try
        {
            relayed = JsonSerializer.Deserialize<RelayedEvent>((byte[])message.Message!);
        }
        catch (JsonException e)
        {
            logger.LogWarning(e, "Ignored a malformed task event on {Channel}", _channel);
            return;
        }
        if (relayed is null || relayed.Origin == _origin) return;
        notifier.DeliverRemote(relayed.Event);
    }

    private sealed record RelayedEvent(string Origin, TaskEvent Event);
}
