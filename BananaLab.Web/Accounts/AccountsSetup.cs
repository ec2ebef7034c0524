using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using BananaLab.Web.RateLimits;
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
        builder.Services.AddOptions<SignInLockoutOptions>().Bind(builder.Configuration.GetSection(SignInLockoutOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
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
            .AddUserManager<StudioUserManager>()
            .AddSignInManager<StudioSignInManager>()
            .AddClaimsPrincipalFactory<StudioClaimsFactory>();
        builder.Services.AddOptions<IdentityOptions>().Configure<IOptions<SignInLockoutOptions>>((options, lockout) =>
        {
            options.Lockout.AllowedForNewUsers = true;
            options.Lockout.MaxFailedAccessAttempts = lockout.Value.MaxFailedAttempts;
            options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromSeconds(lockout.Value.LockoutSeconds);
        });

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
                return ApiProblems.From(new TaskError(ErrorTypes.Antiforgery,
                    "The sign-out form has expired or came from another site; reload the page and sign out again."));
            await signIn.SignOutAsync();
            return Results.LocalRedirect(LoginPath);
        }).ExcludeFromDescription();
        return routes;
    }
}

/// <summary>
/// Refuses sign-in to disabled accounts (reported to the page as <c>IsNotAllowed</c>), and answers an unknown
/// address or an account without a password only after verifying a password hash, as for a real account,
/// so that the answer's time does not tell which addresses have accounts.
/// </summary>
public sealed class StudioSignInManager(
    UserManager<User> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<User> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<User>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<User> confirmation,
    IRateLimitStore buckets)
    : SignInManager<User>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    private static readonly User NoOne = new() { Email = "", NormalizedEmail = "", DisplayName = "" };
    private static string? s_dummyHash;

    public override async Task<bool> CanSignInAsync(User user) => !user.Disabled && await base.CanSignInAsync(user);

    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        var user = await UserManager.FindByNameAsync(userName);
        if (user is not null) return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        VerifyDummyHash(password);
        return lockoutOnFailure && !await UnknownAddressMayFailAgainAsync(userName) ? SignInResult.LockedOut : SignInResult.Failed;
    }

    /// <summary>
    /// An unknown address "locks out" after as many wrong passwords as a real account does, for about as long,
    /// so the lockout message does not single out real accounts. A bucket per hashed address, shared like the rate limits.
    /// </summary>
    private async Task<bool> UnknownAddressMayFailAgainAsync(string userName)
    {
        var lockout = Options.Lockout;
        if (lockout.MaxFailedAccessAttempts <= 1) return false;
        var normalized = UserManager.NormalizeName(userName) ?? userName;
        var key = "sign-in-unknown:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
        var capacity = lockout.MaxFailedAccessAttempts - 1;
        return (await buckets.TryTakeAsync(key, capacity, capacity / lockout.DefaultLockoutTimeSpan.TotalSeconds)).Allowed;
    }

    /// <summary>Identity answers a locked-out or password-less account without hashing: hash anyway, as for everyone else.</summary>
    public override async Task<SignInResult> CheckPasswordSignInAsync(User user, string password, bool lockoutOnFailure)
    {
        if (user.PasswordHash is null || await UserManager.IsLockedOutAsync(user)) VerifyDummyHash(password);
        return await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);
    }

    /// <summary>As costly as checking a real account's password, and never a match.</summary>
    private void VerifyDummyHash(string password)
    {
        var hash = s_dummyHash ??= UserManager.PasswordHasher.HashPassword(NoOne, Guid.NewGuid().ToString());
        UserManager.PasswordHasher.VerifyHashedPassword(NoOne, hash, password);
    }
}

/// <summary>
/// Identity's lockout with backoff: the failure count runs until a successful sign-in (Identity's resets it at
/// each lockout), and every <see cref="LockoutOptions.MaxFailedAccessAttempts"/>-th wrong password locks the
/// account for twice as long as the previous lockout, from <see cref="LockoutOptions.DefaultLockoutTimeSpan"/>
/// up to a day.
/// </summary>
public sealed class StudioUserManager(
    IUserStore<User> store,
    IOptions<IdentityOptions> optionsAccessor,
    IPasswordHasher<User> passwordHasher,
    IEnumerable<IUserValidator<User>> userValidators,
    IEnumerable<IPasswordValidator<User>> passwordValidators,
    ILookupNormalizer keyNormalizer,
    IdentityErrorDescriber errors,
    IServiceProvider services,
    ILogger<UserManager<User>> logger)
    : UserManager<User>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
{
    public static readonly TimeSpan LongestLockout = TimeSpan.FromDays(1);

    public override async Task<IdentityResult> AccessFailedAsync(User user)
    {
        var lockouts = (IUserLockoutStore<User>)Store;
        var failures = await lockouts.IncrementAccessFailedCountAsync(user, CancellationToken);
        var perLockout = Options.Lockout.MaxFailedAccessAttempts;
        if (failures % perLockout == 0)
        {
            var doublings = Math.Min(failures / perLockout - 1, 16);
            var length = TimeSpan.FromTicks(Math.Min(Options.Lockout.DefaultLockoutTimeSpan.Ticks << doublings, LongestLockout.Ticks));
            await lockouts.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow + length, CancellationToken);
        }
        return await UpdateUserAsync(user);
    }
}

/// <summary>The same claims an API key carries (id, email, name, role), so one set of checks serves both.</summary>
public sealed class StudioClaimsFactory : IUserClaimsPrincipalFactory<User>
{
    public Task<ClaimsPrincipal> CreateAsync(User user) =>
        Task.FromResult(CallerPrincipal.Create(user, IdentityConstants.ApplicationScheme));
}

/// <summary>
/// A Blazor circuit outlives its first request: re-check the account every minute, and at once when any node
/// says the account was disabled or its role changed, then sign the circuit out if it no longer holds.
/// </summary>
public sealed class RevalidatingStudioAuthenticationStateProvider : RevalidatingServerAuthenticationStateProvider
{
    private static readonly AuthenticationState SignedOut = new(new ClaimsPrincipal(new ClaimsIdentity()));
    private readonly IServiceScopeFactory _scopes;
    private readonly IDisposable _revocations;
    private readonly CancellationTokenSource _disposed = new();

    public RevalidatingStudioAuthenticationStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, AccountRevocations revocations)
        : base(loggerFactory)
    {
        _scopes = scopes;
        _revocations = revocations.Subscribe(OnRevoked);
    }

    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(state.User.FindFirstValue(ClaimTypes.NameIdentifier), out var id)) return false;
        await using var scope = _scopes.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserService>().FindAsync(id, cancellationToken);
        return user is { Disabled: false } && state.User.IsInRole(user.Role.ToString());
    }

    private void OnRevoked(Revocation revocation)
    {
        if (revocation.UserId is not { } userId) return;
        _ = RevalidateNowAsync(userId);
    }

    private async Task RevalidateNowAsync(Guid userId)
    {
        try
        {
            var state = await GetAuthenticationStateAsync();
            if (state.User.FindFirstValue(ClaimTypes.NameIdentifier) != userId.ToString()) return;
            if (!await ValidateAuthenticationStateAsync(state, _disposed.Token)) SetAuthenticationState(Task.FromResult(SignedOut));
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The circuit ended, or has no state yet (it gets its state, already re-read, when it starts).
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _revocations.Dispose();
            _disposed.Cancel();
            _disposed.Dispose();
        }
        base.Dispose(disposing);
    }
}
