using System.Security.Claims;
using BananaLab.Core.Users;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Accounts;

/// <summary>Studio accounts: ASP.NET Core Identity with cookie sign-in over the <see cref="User"/> table.</summary>
public static class AccountsSetup
{
    public const string LoginPath = "/account/login";

    public static IHostApplicationBuilder AddBananaLabAccounts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddIdentityCore<User>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 8;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireDigit = false;
                options.SignIn.RequireConfirmedAccount = false;
            })
            .AddUserStore<UserStore>()
            .AddSignInManager<StudioSignInManager>()
            .AddClaimsPrincipalFactory<StudioClaimsFactory>();

        builder.Services.AddAuthentication().AddCookie(IdentityConstants.ApplicationScheme, options =>
        {
            options.LoginPath = LoginPath;
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/access-denied";
            options.Cookie.Name = "BananaLab.Auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.ExpireTimeSpan = TimeSpan.FromDays(14);
            options.SlidingExpiration = true;
            options.Events.OnValidatePrincipal = ValidateSignedInUserAsync;
        });
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<AuthenticationStateProvider, RevalidatingStudioAuthenticationStateProvider>();
        builder.Services.AddScoped<CurrentUser>();
        return builder;
    }

    /// <summary>
    /// Every cookie request re-reads the account (one indexed row): a disabled account is signed out at
    /// once and a role change applies on the next page, without waiting for the cookie to expire.
    /// </summary>
    private static async Task ValidateSignedInUserAsync(CookieValidatePrincipalContext context)
    {
        var users = context.HttpContext.RequestServices.GetRequiredService<UserService>();
        var user = Guid.TryParse(context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? await users.FindAsync(id, context.HttpContext.RequestAborted)
            : null;
        if (user is null || user.Disabled)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
            return;
        }
        if (!context.Principal!.IsInRole(user.Role.ToString()) || context.Principal.Identity?.Name != user.DisplayName)
        {
            context.ReplacePrincipal(CallerPrincipal.Create(user, IdentityConstants.ApplicationScheme));
            context.ShouldRenew = true;
        }
    }

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder routes)
    {
        // A plain form post from the layout. UseAntiforgery only records the verdict for a handler that binds
        // no form, so check it here: a foreign page must not be able to sign the user out.
        routes.MapPost("/account/logout", async (HttpContext context, SignInManager<User> signIn, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request",
                    detail: "The sign-out form has expired or came from another site; reload the page and sign out again.",
                    extensions: new Dictionary<string, object?> { ["code"] = "antiforgery" });
            await signIn.SignOutAsync();
            return Results.LocalRedirect(LoginPath);
        }).ExcludeFromDescription();
        return routes;
    }
}

/// <summary>Refuses sign-in to disabled accounts (reported to the page as <c>IsNotAllowed</c>).</summary>
public sealed class StudioSignInManager(
    UserManager<User> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<User> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<User>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<User> confirmation)
    : SignInManager<User>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<bool> CanSignInAsync(User user) => !user.Disabled && await base.CanSignInAsync(user);
}

/// <summary>The same claims an API key carries (id, email, name, role), so one set of checks serves both.</summary>
public sealed class StudioClaimsFactory : IUserClaimsPrincipalFactory<User>
{
    public Task<ClaimsPrincipal> CreateAsync(User user) =>
        Task.FromResult(CallerPrincipal.Create(user, IdentityConstants.ApplicationScheme));
}

/// <summary>A Blazor circuit outlives its first request: re-check the account every minute.</summary>
public sealed class RevalidatingStudioAuthenticationStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopes)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(state.User.FindFirstValue(ClaimTypes.NameIdentifier), out var id)) return false;
        await using var scope = scopes.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserService>().FindAsync(id, cancellationToken);
        return user is { Disabled: false } && state.User.IsInRole(user.Role.ToString());
    }
}
