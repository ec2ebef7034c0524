using System.Collections.Concurrent;
using System.Collections.Immutable;
using BananaLab.Core.Cluster;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using StackExchange.Redis;

namespace BananaLab.Web.Hubs;

/// <summary>
/// Push for API clients at <c>/hubs/tasks</c>: a client with an API key (header, or <c>access_token</c>
/// query for WebSockets) subscribes to its own tasks and receives <c>queued</c>, <c>progress</c> (with a
/// preview), <c>completed</c>, <c>failed</c> and <c>canceled</c> events, each a <see cref="TaskHubEvent"/>.
/// </summary>
[Authorize]
public sealed class TasksHub(TaskService tasks, TaskHubSubscriptions subscriptions, HubCallers callers) : Hub
{
    public const string Path = "/hubs/tasks";

    /// <summary>Starts pushing a task's events to this connection and returns its current state.</summary>
    public async Task<TaskResponse> Subscribe(Guid taskId)
    {
        var view = await tasks.GetAsync(taskId, Context.User!.IsAdmin() ? null : Context.User!.UserId(), Context.ConnectionAborted)
            ?? throw new HubException("There is no such task.");
        subscriptions.Add(taskId, Context.ConnectionId);
        return TaskResponse.From(view);
    }

    public void Unsubscribe(Guid taskId) => subscriptions.Remove(taskId, Context.ConnectionId);

    public override Task OnConnectedAsync()
    {
        callers.Add(Context);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        callers.Remove(Context.ConnectionId);
        subscriptions.RemoveConnection(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>
/// Which of this node's hub connections follow which task. Every node receives every task event (in a
/// cluster, over Redis), so each node pushes to the connections it holds, and a client gets each event
/// once whichever node it is connected to and whichever worker runs its task.
/// </summary>
public sealed class TaskHubSubscriptions
{
    private readonly ConcurrentDictionary<Guid, ImmutableHashSet<string>> _byTask = new();
    private readonly ConcurrentDictionary<string, ImmutableHashSet<Guid>> _byConnection = new();

    public void Add(Guid taskId, string connectionId)
    {
        _byTask.AddOrUpdate(taskId, _ => [connectionId], (_, set) => set.Add(connectionId));
        _byConnection.AddOrUpdate(connectionId, _ => [taskId], (_, set) => set.Add(taskId));
    }

    public void Remove(Guid taskId, string connectionId)
    {
        RemoveFrom(_byTask, taskId, connectionId);
        RemoveFrom(_byConnection, connectionId, taskId);
    }

    public void RemoveConnection(string connectionId)
    {
        if (!_byConnection.TryRemove(connectionId, out var taskIds)) return;
        foreach (var taskId in taskIds) RemoveFrom(_byTask, taskId, connectionId);
    }

    public IReadOnlyList<string> ConnectionsOf(Guid taskId) =>
        _byTask.TryGetValue(taskId, out var set) ? [.. set] : [];

    private static void RemoveFrom<TKey, TValue>(ConcurrentDictionary<TKey, ImmutableHashSet<TValue>> map, TKey key, TValue value)
        where TKey : notnull
    {
        while (map.TryGetValue(key, out var set))
        {
            var updated = set.Remove(value);
            if (updated.IsEmpty ? map.TryRemove(new(key, set)) : map.TryUpdate(key, updated, set)) return;
        }
    }
}

/// <summary>
/// The message a subscribed client receives for every change of its task. <see cref="Progress"/> (0–100) is weighted
/// by the phases' measured cost and is 100 only on <c>completed</c>. <see cref="Phase"/>: <c>queued</c>,
/// <c>denoising</c> (step <see cref="Step"/> of <see cref="TotalSteps"/>), <c>upscaling</c> or <c>encoding</c>
/// (image <see cref="Image"/>, 0-based, of <see cref="ImageCount"/>), <c>done</c>. <see cref="EtaSeconds"/>: expected
/// seconds until the images are stored, as of this event; null when unknown or finished.
/// </summary>
public sealed record TaskHubEvent(Guid TaskId, string Status, int Progress, int Step, int TotalSteps, string? PreviewPngBase64,
    string? ErrorCode, string? ErrorMessage, string Phase = "queued", int Image = 0, int ImageCount = 0, int? EtaSeconds = null);

/// <summary>Forwards the notifier's events to this node's hub connections that follow their task.</summary>
public sealed class TaskHubBroadcaster(TaskNotifier notifier, TaskHubSubscriptions subscriptions, IHubContext<TasksHub> hub,
    ILogger<TaskHubBroadcaster> logger) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = notifier.SubscribeAll(Forward);
        return Task.CompletedTask;
    }

    private void Forward(TaskEvent e)
    {
        var connections = subscriptions.ConnectionsOf(e.TaskId);
        if (connections.Count == 0) return;
        var name = e.Kind switch
        {
            TaskEventKind.Queued => "queued",
            TaskEventKind.Started or TaskEventKind.Progress => "progress",
            TaskEventKind.Succeeded => "completed",
            TaskEventKind.Canceled => "canceled",
            _ => "failed",
        };
        var message = new TaskHubEvent(e.TaskId, TaskResponse.StatusName(e.Status), e.ProgressPercent, e.Step, e.TotalSteps,
            e.PreviewPng is null ? null : Convert.ToBase64String(e.PreviewPng), e.ErrorCode, e.ErrorMessage,
            e.Phase.WireName(), e.Image, e.ImageCount, e.EtaSeconds);
        hub.Clients.Clients(connections).SendAsync(name, message).ContinueWith(
            t => logger.LogWarning(t.Exception, "Could not push {Event} for task {TaskId}", name, e.TaskId),
            TaskContinuationOptions.OnlyOnFaulted);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}

public static class TasksHubEndpoints
{
    public static IHostApplicationBuilder AddBananaLabHubs(this IHostApplicationBuilder builder)
    {
        var signalR = builder.Services.AddSignalR();
        if (ClusterOptions.UsesRedis(builder.Configuration))
        {
            // The Redis backplane: a hub message sent on one node (to a connection, a user, a group or
            // everyone) reaches the clients connected to the other nodes. It shares the process's connection.
            signalR.AddStackExchangeRedis();
            builder.Services.AddOptions<RedisOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
                options.ConnectionFactory = _ => Task.FromResult(redis));
        }
        builder.Services.AddSingleton<TaskHubSubscriptions>();
        builder.Services.AddSingleton<HubCallers>();
        builder.Services.AddHostedService<TaskHubBroadcaster>();
        return builder;
    }

    public static IEndpointRouteBuilder MapBananaLabHubs(this IEndpointRouteBuilder routes)
    {
        routes.MapHub<TasksHub>(TasksHub.Path);
        return routes;
    }
}
