using System.Security.Claims;
using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Core.Catalog;
using BananaLab.Core.Storage;
using BananaLab.Core.Users;
using BananaLab.Core.Webhooks;
using BananaLab.Web.Api.Dialects;
using Microsoft.Extensions.Options;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Accounts;
using BananaLab.Web.Components.Shared;
using BananaLab.Web.Components.Viewer;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace BananaLab.Tests.Studio;

/// <summary>
/// bUnit over the real app: components get the app's own singletons (TaskService, ledger, catalog,
/// notifier) from a <see cref="BananaLabFactory"/> on a temp SQLite file, plus MudBlazor and a signed-in
/// user. Only the browser edge (JS interop) is loose.
/// </summary>
public abstract class StudioTestContext : BunitContext, IAsyncLifetime
{
    protected StudioTestContext(BananaLabFactory app)
    {
        App = app;
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        // Everything else (Core services, options, the Web singletons) comes from the real host, through a
        // scope of its container so that framework services registered as scoped resolve too.
        _ = app.Server;
        _hostScope = app.Services.CreateAsyncScope();
        Services.AddFallbackServiceProvider(_hostScope.ServiceProvider);
        // The per-circuit services live in bUnit's container (next to its fake authentication); their
        // dependencies on the host's singletons are passed in, since a fallback only serves whole services.
        // bUnit's own container answers IOptions<T> with unconfigured defaults: forward the host's settings.
        ForwardOptions<ApiOptions>();
        ForwardOptions<CreditsOptions>();
        ForwardOptions<StorageOptions>();
        ForwardOptions<WebhookOptions>();
        ForwardOptions<ModelCatalogOptions>();
        Services.AddScoped<CurrentUser>();
        Services.AddScoped<ViewerClock>();
        Services.AddScoped(provider => new BalanceState(Get<CreditLedger>(), provider.GetRequiredService<CurrentUser>(), Get<TaskNotifier>()));
    }

    private readonly AsyncServiceScope _hostScope;

    /// <summary>How long a page may take to show what the test waits for (renders follow the real app's events).</summary>
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    protected BananaLabFactory App { get; }

    private void ForwardOptions<TOptions>() where TOptions : class =>
        Services.AddSingleton(_ => Get<IOptions<TOptions>>());

    protected T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>This test's viewer clock, as <c>Routes</c> sets it from the browser's time-zone cookie.</summary>
    protected ViewerClock Viewer => Services.GetRequiredService<ViewerClock>();

    /// <summary>A fresh account with <paramref name="credits"/> credits, signed in as this test's user.</summary>
    protected async Task<User> SignInNewUserAsync(int credits = 100, UserRole role = UserRole.User)
    {
        var user = await Get<UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Test User", role, initialCredits: credits);
        SignIn(user);
        return user;
    }

    protected void SignIn(User user)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(user.DisplayName);
        // Roles first: bUnit's SetRoles rebuilds the identity and would drop claims set before it.
        if (user.Role == UserRole.Admin) auth.SetRoles(nameof(UserRole.Admin));
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Email, user.Email));
    }

    /// <summary>Renders the popover, dialog and snackbar hosts first, as the layout does.</summary>
    protected IRenderedComponent<MudPopoverProvider> RenderProviders()
    {
        Render<MudDialogProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudPopoverProvider>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor registers services that are only IAsyncDisposable, so dispose asynchronously.
    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await _hostScope.DisposeAsync();
    }
}
