using System.Net;
using System.Security.Claims;
using BananaLab.Core.Data;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Tests.Studio;
using BananaLab.Web.Accounts;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BananaLab.Tests.Accounts;

/// <summary>Counts the hash verifications sign-in performs, around the real hasher.</summary>
public sealed class CountingPasswordHasher : IPasswordHasher<User>
{
    private readonly PasswordHasher<User> _inner = new();
    private int _verifications;

    public int Verifications => Volatile.Read(ref _verifications);

    public string HashPassword(User user, string password) => _inner.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}

public sealed class SignInFactory : BananaLabFactory
{
    public CountingPasswordHasher Hasher { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["SignInLockout:MaxFailedAttempts"] = "3",
        ["SignInLockout:LockoutSeconds"] = "600",
        ["RateLimits:SignInAttemptsPerMinute"] = "1000",
    };

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IPasswordHasher<User>>(Hasher));
    }
}

/// <summary>What sign-in tells about an address, the lockout after wrong passwords, and circuits of a disabled account.</summary>
public sealed class SignInTests(SignInFactory app) : IClassFixture<SignInFactory>
{
    private HttpClient Browser() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private Task<HttpResponseMessage> SignInAsync(string email, string password) =>
        AccountTests.PostFormAsync(Browser(), "/account/login", "login", new() { ["Form.Email"] = email, ["Form.Password"] = password });

    [Fact]
    public async Task An_unknown_address_costs_one_password_hash_verification_like_a_wrong_password()
    {
        var user = await app.Services.GetRequiredService<UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Real", UserRole.User, "password123");
        await using var scope = app.Services.CreateAsyncScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<User>>();

        var before = app.Hasher.Verifications;
        var unknown = await signIn.PasswordSignInAsync($"{Guid.NewGuid():N}@example.test", "password123", false, lockoutOnFailure: true);
        var forUnknown = app.Hasher.Verifications - before;
        before = app.Hasher.Verifications;
        var wrong = await signIn.PasswordSignInAsync(user.Email, "wrong-password", false, lockoutOnFailure: true);
        var forWrong = app.Hasher.Verifications - before;

        Assert.False(unknown.Succeeded);
        Assert.False(wrong.Succeeded);
        Assert.Equal(1, forWrong);
        Assert.Equal(forWrong, forUnknown);
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_account_out_until_the_window_has_passed()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Guessed", UserRole.User, "password123");

        for (var attempt = 0; attempt < 2; attempt++)
            Assert.Contains("The email or password is wrong.", await (await SignInAsync(user.Email, "wrong-guess")).Content.ReadAsStringAsync());
        var third = await (await SignInAsync(user.Email, "wrong-guess")).Content.ReadAsStringAsync();
        Assert.Contains("Too many wrong passwords for this account. Sign-in is paused for 10 minutes", third);
        // Locked out, even the right password is refused.
        var right = await SignInAsync(user.Email, "password123");
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("Too many wrong passwords", await right.Content.ReadAsStringAsync());

        // The window passes (moved back rather than waited for: Identity reads the system clock).
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEndsAt, DateTime.UtcNow.AddSeconds(-1)));

        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(user.Email, "password123")).StatusCode);
        Assert.Equal(0, (await users.FindAsync(user.Id))!.AccessFailedCount);
    }

    [Fact]
    public async Task Each_further_lockout_lasts_twice_as_long_until_a_successful_sign_in()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Persistent", UserRole.User, "password123");
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();
        async Task<TimeSpan> LockedForAsync() => (await users.FindAsync(user.Id))!.LockoutEndsAt!.Value - DateTime.UtcNow;
        async Task WindowPassesAsync()
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEndsAt, DateTime.UtcNow.AddSeconds(-1)));
        }

        for (var attempt = 0; attempt < 3; attempt++) await SignInAsync(user.Email, "wrong-guess");
        Assert.InRange(await LockedForAsync(), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        await WindowPassesAsync();
        for (var attempt = 0; attempt < 3; attempt++) await SignInAsync(user.Email, "wrong-guess");
        Assert.InRange(await LockedForAsync(), TimeSpan.FromMinutes(19), TimeSpan.FromMinutes(20));

        // A successful sign-in starts the count afresh: the next lockout is the first one again.
        await WindowPassesAsync();
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(user.Email, "password123")).StatusCode);
        await WindowPassesAsync();
        for (var attempt = 0; attempt < 3; attempt++) await SignInAsync(user.Email, "wrong-guess");
        Assert.InRange(await LockedForAsync(), TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task An_unknown_address_is_locked_out_after_as_many_wrong_passwords_as_a_real_one()
    {
        var unknown = $"{Guid.NewGuid():N}@example.test";

        for (var attempt = 0; attempt < 2; attempt++)
            Assert.Contains("The email or password is wrong.", await (await SignInAsync(unknown, "wrong-guess")).Content.ReadAsStringAsync());
        var third = await (await SignInAsync(unknown, "wrong-guess")).Content.ReadAsStringAsync();

        Assert.Contains("Too many wrong passwords for this account. Sign-in is paused for 10 minutes", third);
    }

    [Fact]
    public async Task A_disabled_accounts_circuit_is_signed_out_at_once()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Circuit", UserRole.User, "password123");
        using var provider = new RevalidatingStudioAuthenticationStateProvider(app.Services.GetRequiredService<ILoggerFactory>(),
            app.Services.GetRequiredService<IServiceScopeFactory>(), app.Services.GetRequiredService<AccountRevocations>());
        provider.SetAuthenticationState(Task.FromResult(new AuthenticationState(CallerPrincipal.Create(user, IdentityConstants.ApplicationScheme))));
        var changed = new TaskCompletionSource<ClaimsPrincipal>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.AuthenticationStateChanged += async state => changed.TrySetResult((await state).User);

        await users.SetDisabledAsync(Guid.NewGuid(), user.Id, disabled: true);

        var principal = await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(principal.Identity?.IsAuthenticated);
    }

    [Fact]
    public async Task Another_accounts_revocation_leaves_a_circuit_signed_in()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Stays", UserRole.User, "password123");
        var other = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Goes", UserRole.User, "password123");
        using var provider = new RevalidatingStudioAuthenticationStateProvider(app.Services.GetRequiredService<ILoggerFactory>(),
            app.Services.GetRequiredService<IServiceScopeFactory>(), app.Services.GetRequiredService<AccountRevocations>());
        provider.SetAuthenticationState(Task.FromResult(new AuthenticationState(CallerPrincipal.Create(user, IdentityConstants.ApplicationScheme))));

        await users.SetDisabledAsync(Guid.NewGuid(), other.Id, disabled: true);
        await users.SetRoleAsync(Guid.NewGuid(), user.Id, UserRole.User);

        Assert.True((await provider.GetAuthenticationStateAsync()).User.Identity?.IsAuthenticated);
    }
}
