using System.Text.Json;
using System.Threading.Channels;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Dialects;

namespace BananaLab.Web.Api.OpenAI;

/// <summary>
/// <c>stream: true</c> on <c>/v1/images/generations</c> and <c>/v1/images/edits</c>: a submitted task answered as OpenAI's
/// server-sent events. Up to <c>partial_images</c> (0–3) <c>image_generation.partial_image</c> events carry the worker's live
/// previews, spread evenly over the denoising steps; then one <c>image_generation.completed</c> event per image with the
/// finished file (<c>image_edit.*</c> for edits). A run that fails ends with an <c>error</c> event in OpenAI's envelope.
/// Source: OpenAI API reference, "Image generation streaming events" and "Image edit streaming events".
/// </summary>
public static class OpenAiImageStream
{
    /// <summary>The most partial images OpenAI's API lets a stream ask for.</summary>
    public const int MaxPartialImages = 3;

    /// <param name="eventPrefix"><c>image_generation</c> or <c>image_edit</c>.</param>
    /// <param name="wait">How long the stream follows the task before it ends with an error naming where to follow it.</param>
    /// <returns>True when the finished images were sent (the call delivered its result).</returns>
    public static async Task<bool> WriteAsync(HttpContext context, TaskView submitted, int partialImages, string eventPrefix, TaskService tasks,
        TaskNotifier notifier, TaskOutputs outputs, TimeSpan wait, CancellationToken cancellationToken)
    {
        var task = submitted.Task;
        var events = Channel.CreateUnbounded<TaskEvent>();
        using var subscription = notifier.Subscribe(task.Id, e => events.Writer.TryWrite(e));
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.Body.FlushAsync(cancellationToken);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        var sent = 0;
        var shape = new Shape(task, eventPrefix);
        try
        {
            // Events published before the subscription are not replayed: read the task once more now that nothing can be
            // missed, so one that ended in between is answered at once instead of at the deadline.
            var current = await tasks.GetAsync(task.Id, null, cancellationToken) ?? submitted;
            while (!current.Task.IsTerminal)
            {
                var next = await events.Reader.ReadAsync(deadline.Token);
                if (next.Kind is TaskEventKind.Succeeded or TaskEventKind.Failed or TaskEventKind.Canceled)
                {
                    current = await tasks.GetAsync(task.Id, null, cancellationToken) ?? current;
                    if (!current.Task.IsTerminal) current = current with { Task = next.EndOf(current.Task) };
                    break;
                }
                if (next is { PreviewPng: { } preview, TotalSteps: > 0 } && sent < partialImages
                    && next.Step >= Math.Ceiling(next.TotalSteps * (sent + 1.0) / (partialImages + 1)))
                    await WriteEventAsync(response, $"{eventPrefix}.partial_image", shape.Partial(Convert.ToBase64String(preview), sent++), cancellationToken);
            }
            return await FinishAsync(response, current.Task, shape, outputs, cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await WriteErrorAsync(response, new TaskError(ErrorTypes.StillRunning,
                $"Still generating; follow it at /api/v1/tasks/{task.Id}."), cancellationToken);
            return false;
        }
    }

    private static async Task<bool> FinishAsync(HttpResponse response, TaskSnapshot task, Shape shape, TaskOutputs outputs, CancellationToken cancellationToken)
    {
        if (task.Status != GenerationTaskStatus.Succeeded)
        {
            await WriteErrorAsync(response, task.Status == GenerationTaskStatus.Blocked
                ? TaskErrors.ModerationBlocked()
                : new TaskError(ErrorTypes.GenerationFailed, task.ErrorMessage ?? "The image could not be generated."), cancellationToken, task.ErrorCode);
            return false;
        }
        var images = await outputs.Base64Async(task, cancellationToken);
        foreach (var b64 in images) await WriteEventAsync(response, $"{shape.Prefix}.completed", shape.Completed(b64), cancellationToken);
        return true;
    }

    private static Task WriteErrorAsync(HttpResponse response, TaskError error, CancellationToken cancellationToken, string? code = null)
    {
        var envelope = OpenAiImagesApi.Error(error, code).Value!;
        return WriteEventAsync(response, "error", new { type = "error", error = envelope.Error }, cancellationToken);
    }

    private static async Task WriteEventAsync(HttpResponse response, string name, object data, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data, JsonOptions)}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The fields every event of one task repeats: its size, format and when it was created.</summary>
    private sealed record Shape(TaskSnapshot Task, string Prefix)
    {
        private long CreatedAt => new DateTimeOffset(Task.CreatedAt).ToUnixTimeSeconds();
        private string Size => $"{Task.Width}x{Task.Height}";
        private string Format => Task.OutputFormat.ToString().ToLowerInvariant();

        public object Partial(string b64, int index) => new
        {
            type = $"{Prefix}.partial_image", b64_json = b64, created_at = CreatedAt, size = Size, quality = "auto",
            background = "opaque", output_format = "png", partial_image_index = index,
        };

        public object Completed(string b64) => new
        {
            type = $"{Prefix}.completed", b64_json = b64, created_at = CreatedAt, size = Size, quality = "auto",
            background = "opaque", output_format = Format,
            usage = new { input_tokens = 0, output_tokens = 0, total_tokens = 0, input_tokens_details = new { image_tokens = 0, text_tokens = 0 } },
        };
    }
}
