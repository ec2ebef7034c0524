using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Core.Webhooks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Webhooks;

/// <summary>
/// The account webhook. <c>Secret</c> keys <c>BananaLab-Signature</c> (HMAC over its UTF-8 text); <c>StandardWebhooksSecret</c>
/// is the same secret as a Standard Webhooks verifier takes it (https://www.standardwebhooks.com/), equal to <c>Secret</c>
/// except for older secrets written in the URL-safe base64 alphabet.
/// </summary>
public sealed record WebhookSettingsResponse(string? Url, string Secret, string StandardWebhooksSecret, string SignatureHeader);

public sealed record WebhookSettingsBody(string? Url);

public sealed record WebhookDeliveryResponse(long Id, string Url, string EventType, string Status, int Attempts, DateTime CreatedAt,
    DateTime? DeliveredAt, DateTime NextAttemptAt, int? LastStatusCode, string? LastError);

/// <summary>The account webhook (URL and signing secret) and each task's delivery log.</summary>
public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1").RequireAuthorization().WithTags("Webhooks");
        group.MapGet("/webhook", GetSettings);
        group.MapPut("/webhook", SetUrl).ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.UnsupportedMediaType, ErrorKind.TooLarge);
        group.MapPost("/webhook/rotate-secret", RotateSecret);
        group.MapGet("/tasks/{id:guid}/webhooks", GetDeliveries).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>The account webhook's URL (null when none) and the secret its deliveries are signed with.</summary>
    public static async Task<Ok<WebhookSettingsResponse>> GetSettings(ClaimsPrincipal caller, WebhookAccounts accounts, CancellationToken cancellationToken)
    {
        var settings = await accounts.GetAsync(caller.UserId(), cancellationToken);
        return TypedResults.Ok(new WebhookSettingsResponse(settings.Url, settings.Secret, WebhookSecrets.StandardForm(settings.Secret),
            "BananaLab-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">; and webhook-id, webhook-timestamp, webhook-signature (Standard Webhooks v1)"));
    }

    /// <summary>Sets (or, with a null <c>url</c>, removes) the account webhook; refused for addresses webhooks may not call.</summary>
    public static async Task<Results<Ok<WebhookSettingsResponse>, ProblemHttpResult>> SetUrl(WebhookSettingsBody body, ClaimsPrincipal caller,
        WebhookAccounts accounts, CancellationToken cancellationToken)
    {
        var error = await accounts.SetUrlAsync(caller.UserId(), body.Url, cancellationToken);
        return error is null ? await GetSettings(caller, accounts, cancellationToken) : ApiProblems.From(TaskErrors.InvalidWebhookUrl(error));
    }

    /// <summary>Replaces the signing secret; deliveries from now on are signed with the new one.</summary>
    public static async Task<Ok<WebhookSettingsResponse>> RotateSecret(ClaimsPrincipal caller, WebhookAccounts accounts, CancellationToken cancellationToken)
    {
        await accounts.RotateSecretAsync(caller.UserId(), onlyIfMissing: false, cancellationToken);
        return await GetSettings(caller, accounts, cancellationToken);
    }

    /// <summary>Every webhook delivery of one of the caller's tasks, with its attempts and last answer.</summary>
    public static async Task<Results<Ok<List<WebhookDeliveryResponse>>, ProblemHttpResult>> GetDeliveries(Guid id, ClaimsPrincipal caller,
        TaskService tasks, WebhookDeliveryStore deliveries, CancellationToken cancellationToken)
    {
        if (await tasks.GetAsync(id, TasksApi.OwnerFilter(caller), cancellationToken) is null) return ApiProblems.From(TaskErrors.TaskNotFound());
        var log = await deliveries.ForTaskAsync(id, cancellationToken);
        return TypedResults.Ok(log.Select(d => new WebhookDeliveryResponse(d.Id, d.Url, d.EventType, d.Status.ToString().ToLowerInvariant(),
            d.Attempts, d.CreatedAt, d.DeliveredAt, d.NextAttemptAt, d.LastStatusCode, d.LastError)).ToList());
    }
}
