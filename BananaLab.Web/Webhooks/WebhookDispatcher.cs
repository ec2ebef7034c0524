using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Tasks;
using BananaLab.Core.Webhooks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.FastDeploy;
using BananaLab.Web.Api.Files;
using BananaLab.Web.Api.Tasks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace BananaLab.Web.Webhooks;

/// <summary>
/// Sends due webhook deliveries from the outbox: a JSON body signed twice with the account's secret, with HMAC-SHA256
/// over <c>timestamp.body</c> in <c>BananaLab-Signature: t=…,v1=…</c> (for existing receivers) and with the Standard
/// Webhooks headers <c>webhook-id</c> (<c>evt_{delivery id}</c>, the same on every retry), <c>webhook-timestamp</c> and
/// <c>webhook-signature</c> (https://www.standardwebhooks.com/; key: <see cref="WebhookSecrets.SigningKey"/>), retried with exponential backoff
/// for <c>Webhooks:MaxAgeHours</c>. Rows survive restarts, so nothing is lost when the process stops.
/// </summary>
public sealed class WebhookDispatcher(
    WebhookDeliveryStore store,
    WebhookSignal signal,
    WebhookAccounts accounts,
    TaskService tasks,
    TaskOutputs outputs,
    SignedImageUrls urls,
    IHttpClientFactory httpClients,
    IServer server,
    IOptions<WebhookOptions> options,
    IOptions<JsonOptions> json,
    TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    public const string SignatureHeader = "BananaLab-Signature";
    public const string StandardIdHeader = "webhook-id";
    public const string StandardTimestampHeader = "webhook-timestamp";
    public const string StandardSignatureHeader = "webhook-signature";

    /// <summary>The event's id: the body's <c>id</c> and the Standard Webhooks <c>webhook-id</c>, the same on every retry.</summary>
    public static string EventId(WebhookDelivery delivery) => $"evt_{delivery.Id}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.PollIntervalMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await store.ClaimDueAsync(16, stoppingToken);
                await Task.WhenAll(due.Select(d => DeliverAsync(d, stoppingToken)));
                if (due.Count == 0) await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Webhook dispatch failed; retrying");
                await Task.Delay(poll, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task DeliverAsync(WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        int? status = null;
        string? error = null;
        try
        {
            var body = await BuildBodyAsync(delivery, stoppingToken);
            var secret = (await accounts.GetAsync(delivery.UserId, stoppingToken)).Secret;
            var now = clock.GetUtcNow();
            var timestamp = now.ToUnixTimeSeconds();
            var eventId = EventId(delivery);
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(SignatureHeader, $"t={timestamp},v1={Sign(secret, timestamp, body)}");
            request.Headers.Add(StandardIdHeader, eventId);
            request.Headers.Add(StandardTimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(StandardSignatureHeader, new StandardWebhook(WebhookSecrets.SigningKey(secret)).Sign(eventId, now, body));
            request.Headers.Add("BananaLab-Event", delivery.EventType);
            request.Headers.Add("BananaLab-Delivery", delivery.Id.ToString());
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            if (status is >= 300 and < 400) error = $"The receiver answered {status}; redirects are not followed, so the webhook URL must answer itself.";
            else if (!response.IsSuccessStatusCode) error = $"The receiver answered {status}.";
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            error = $"No answer within {options.Value.TimeoutSeconds} seconds.";
        }
        catch (HttpRequestException e)
        {
            error = e.Message;
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Anything else still counts as a failed attempt, so the delivery backs off and ends by its age limit.
            logger.LogWarning(e, "Webhook {Id} to {Url} failed unexpectedly", delivery.Id, delivery.Url);
            error = $"The delivery failed: {e.Message}";
        }
        await store.RecordAttemptAsync(delivery, status, error, CancellationToken.None);
        if (error is not null) logger.LogInformation("Webhook {Id} to {Url} failed: {Error}", delivery.Id, delivery.Url, error);
    }

    /// <summary>Hex HMAC-SHA256 of <c>"{timestamp}.{body}"</c> with the account's secret.</summary>
    public static string Sign(string secret, long timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    /// <summary>
    /// Where the payload's image links point: <c>Webhooks:PublicBaseUrl</c> when set, else the origin the task was created
    /// at, else (a task no request made) this server's first listening address.
    /// </summary>
    private async Task<string> BaseUrlAsync(Guid taskId, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(options.Value.PublicBaseUrl)) return options.Value.PublicBaseUrl.TrimEnd('/');
        if (await store.TaskOriginAsync(taskId, cancellationToken) is { } origin) return origin;
        var listening = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost";
        // A wildcard listener (http://+:8080, http://[::]:8080) is reached on this machine as localhost.
        return System.Text.RegularExpressions.Regex.Replace(listening, @"^(https?://)(\+|\*|0\.0\.0\.0|\[::\])(?=[:/]|$)", "$1localhost").TrimEnd('/');
    }

    private async Task<string> BuildBodyAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        if (delivery.BatchId is { } batchId)
        {
            var batch = await tasks.GetBatchAsync(batchId, delivery.UserId, cancellationToken) ?? [];
            var reply = await FastDeployApi.ReplyAsync(batch, batch.FirstOrDefault()?.BatchKey is not null, outputs, includeStatus: true, cancellationToken);
            return JsonSerializer.Serialize(reply with { UniqueId = batchId.ToString("N") }, json.Value.SerializerOptions);
        }

        var view = await tasks.GetAsync(delivery.TaskId!.Value, delivery.UserId, cancellationToken)
            ?? throw new HttpRequestException("The task of this delivery no longer exists.");
        var baseUrl = await BaseUrlAsync(view.Task.Id, cancellationToken);
        var task = TaskResponse.From(view);
        task = task with
        {
            Images = task.Images.Select(i => i with { Url = urls.For(baseUrl, task.Id, i.Index) }).ToList(),
        };
        var payload = new JsonObject
        {
            ["id"] = EventId(delivery),
            ["type"] = delivery.EventType,
            ["created"] = new DateTimeOffset(delivery.CreatedAt).ToUnixTimeSeconds(),
            ["data"] = new JsonObject { ["task"] = JsonSerializer.SerializeToNode(task, json.Value.SerializerOptions) },
        };
        return payload.ToJsonString();
    }
}

public static class WebhookServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddBananaLabWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(services => GuardedHttpHandler.Create(services.GetRequiredService<OutboundAddressPolicy>()));
        builder.Services.AddHostedService<WebhookDispatcher>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<ISubmissionOrigin, HttpSubmissionOrigin>();
        return builder;
    }
}

/// <summary>The origin of the HTTP request being served (after the forwarded-headers middleware), stored with a task it submits.</summary>
public sealed class HttpSubmissionOrigin(IHttpContextAccessor accessor) : ISubmissionOrigin
{
    public string? Current => accessor.HttpContext?.Request is { Host.HasValue: true } request
        && $"{request.Scheme}://{request.Host}{request.PathBase}" is { Length: <= SubmissionOrigin.MaxLength } origin
            ? origin
            : null;
}
