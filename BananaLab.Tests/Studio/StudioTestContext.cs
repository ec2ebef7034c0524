using System.Security.Claims;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Accounts;
using BananaLab.Web.Components.Shared;
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
        Services.AddScoped<CurrentUser>();
        Services.AddScoped<BalanceState>();
        // Everything else (Core services, options, the Web singletons) comes from the real host.
        _ = app.Server;
        Services.AddFallbackServiceProvider(app.Services);
    }

    protected BananaLabFactory App { get; }

    protected T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

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
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Email, user.Email));
        if (user.Role == UserRole.Admin) auth.SetRoles(nameof(UserRole.Admin));
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
    Task IAsyncLifetime.DisposeAsync() => base.DisposeAsync().AsTask();
}
