using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace BananaLab.Web.Hubs;

/// <summary>
/// Push for API clients at <c>/hubs/tasks</c>: a client with an API key (header, or <c>access_token</c>
/// query for WebSockets) subscribes to its own tasks and receives <c>queued</c>, <c>progress</c> (with a
/// preview), <c>completed</c>, <c>failed</c> and <c>canceled</c> events.
/// </summary>
[Authorize]
public sealed class TasksHub(TaskService tasks) : Hub
{
    public const string Path = "/hubs/tasks";

    public static string Group(Guid taskId) => "task:" + taskId.ToString("N");

    /// <summary>Starts pushing a task's events to this connection and returns its current state.</summary>
    public async Task<TaskResponse> Subscribe(Guid taskId)
    {
        var view = await tasks.GetAsync(taskId, Context.User!.IsAdmin() ? null : Context.User!.UserId(), Context.ConnectionAborted)
            ?? throw new HubException("There is no such task.");
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(taskId), Context.ConnectionAborted);
        return TaskResponse.From(view);
    }

    public Task Unsubscribe(Guid taskId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(taskId));
}

/// <summary>The message a subscribed client receives for every change of its task.</summary>
public sealed record TaskHubEvent(Guid TaskId, string Status, int Progress, int Step, int TotalSteps, string? PreviewPngBase64,
    string? ErrorCode, string? ErrorMessage);

/// <summary>Forwards the notifier's events to the hub groups of their tasks.</summary>
public sealed class TaskHubBroadcaster(TaskNotifier notifier, IHubContext<TasksHub> hub, ILogger<TaskHubBroadcaster> logger) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = notifier.SubscribeAll(Forward);
        return Task.CompletedTask;
    }

    private void Forward(TaskEvent e)
    {
        var name = e.Kind switch
        {
            TaskEventKind.Queued => "queued",
            TaskEventKind.Started or TaskEventKind.Progress => "progress",
            TaskEventKind.Succeeded => "completed",
            TaskEventKind.Canceled => "canceled",
            _ => "failed",
        };
        var message = new TaskHubEvent(e.TaskId, TaskResponse.StatusName(e.Status), e.ProgressPercent, e.Step, e.TotalSteps,
            e.PreviewPng is null ? null : Convert.ToBase64String(e.PreviewPng), e.ErrorCode, e.ErrorMessage);
        hub.Clients.Group(TasksHub.Group(e.TaskId)).SendAsync(name, message).ContinueWith(
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
        builder.Services.AddSignalR();
        builder.Services.AddHostedService<TaskHubBroadcaster>();
        return builder;
    }

    public static IEndpointRouteBuilder MapBananaLabHubs(this IEndpointRouteBuilder routes)
    {
        routes.MapHub<TasksHub>(TasksHub.Path);
        return routes;
    }
}
