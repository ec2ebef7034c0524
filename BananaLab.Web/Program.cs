using BananaLab.Core;
using BananaLab.Core.Health;
using BananaLab.Web.Accounts;
using BananaLab.Web.Api;
using BananaLab.Web.Api.Admin;
using BananaLab.Web.Api.Banana;
using BananaLab.Web.Api.BentoML;
using BananaLab.Web.Api.Catalog;
using BananaLab.Web.Api.Comparisons;
using BananaLab.Web.Api.Credits;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Docs;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.FastDeploy;
using BananaLab.Web.Api.Files;
using BananaLab.Web.Api.Keys;
using BananaLab.Web.Api.Moderation;
using BananaLab.Web.Api.OpenAI;
using BananaLab.Web.Api.Sessions;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Api.Webhooks;
using BananaLab.Web.Auth;
using BananaLab.Web.Commands;
using BananaLab.Web.Components;
using BananaLab.Web.Cors;
using BananaLab.Web.Hubs;
using BananaLab.Web.KeyRing;
using BananaLab.Web.Metrics;
using BananaLab.Web.Pages;
using BananaLab.Web.Pages.Admin;
using BananaLab.Web.Pages.Media;
using BananaLab.Web.Proxies;
using BananaLab.Web.RateLimits;
using BananaLab.Web.Webhooks;
using BananaLab.Worker;
using BananaLab.Worker.Probes;

var builder = WebApplication.CreateBuilder(args);

builder.AddBananaLabCore();
builder.AddBananaLabKeyRing();
builder.AddBananaLabGeneration();
builder.AddBananaLabAuth();
builder.AddBananaLabAccounts();
builder.AddBananaLabStudio();
builder.AddBananaLabStaticAssets();
builder.AddBananaLabHealth();
builder.AddBananaLabModelsCheck();
builder.AddBananaLabApiDocs();
builder.AddBananaLabDialects();
builder.AddBananaApi();
builder.AddBananaLabMetrics();
builder.AddBananaLabRateLimits();
builder.AddBananaLabForwardedHeaders();
builder.AddBananaLabCors();
builder.AddBananaLabHubs();
builder.AddBananaLabWebhooks();
builder.AddBananaLabApiErrors();

var app = builder.Build();

if (CreateApiKeyCommand.IsRequested(args))
    return await CreateApiKeyCommand.RunAsync(app, args);

app.UseBananaLabForwardedHeaders();
app.UseExceptionHandler();
app.UseBananaLabStatusCodePages();
app.UseRouting();
app.UseBananaLabHttpMetrics();
app.UseBananaLabCors();
app.UseAuthentication();
app.UseBananaLabRateLimits();
app.UseAuthorization();
app.UseAntiforgery();

app.MapHealthEndpoints();
app.MapBananaLabMetrics();
var api = app.MapKeyOnlyApi().WithBananaLabCors();
api.MapTasksApi();
api.MapComparisonsApi();
api.MapModelsApi();
api.MapCreditsApi();
api.MapKeysApi();
api.MapWebhooksApi();
api.MapModerationAdminApi();
api.MapModerationReviewsApi();
api.MapBananaApi();
api.MapSessionApi();
api.MapFastDeployApi();
api.MapBentoMLApi();
api.MapOpenAiImagesApi();
app.MapSignedFiles();
app.MapBananaLabHubs();
app.MapApiDocs();
app.MapAccountEndpoints();
app.MapStudioMedia();
app.MapModerationReviewsDownload();
app.MapStaticAssets();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

return await app.RunUntilStoppedAsync();

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
