using System.Net;
using System.Text.RegularExpressions;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Studio;

/// <summary>Cookie sign-in through the real account forms, and what a cookie may and may not reach.</summary>
public sealed partial class AccountTests(BananaLabFactory app) : IClassFixture<BananaLabFactory>
{
    private HttpClient Browser() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_the_sign_in_page()
    {
        var response = await Browser().GetAsync("/?from=abc");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/login", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=%2F%3Ffrom%3Dabc", response.Headers.Location.Query);
    }

    [Fact]
    public async Task Registering_grants_the_sign_up_credits_and_the_new_password_signs_in_to_the_studio()
    {
        var browser = Browser();
        var email = $"{Guid.NewGuid():N}@example.test";

        var registered = await PostFormAsync(browser, "/account/register", "register", new()
        {
            ["Form.DisplayName"] = "Ann", ["Form.Email"] = email, ["Form.Password"] = "correct horse", ["Form.ConfirmPassword"] = "correct horse",
        });

        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        Assert.Equal("/account/login", new Uri(new Uri("http://localhost"), registered.Headers.Location!).AbsolutePath);
        var user = await app.Services.GetRequiredService<UserService>().FindByEmailAsync(email);
        Assert.NotNull(user);
        Assert.Equal(UserRole.User, user.Role);
        Assert.Equal(100, user.CreditBalance);
        var notice = await (await browser.GetAsync(registered.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("If this address had no account, it has one now", notice);
        // The address typed at sign-up is filled in (from a short-lived cookie, never the URL).
        Assert.Contains($"value=\"{email}\"", notice);
        Assert.DoesNotContain(email, registered.Headers.Location!.ToString());
        var signedIn = await PostFormAsync(browser, "/account/login", "login", new() { ["Form.Email"] = email, ["Form.Password"] = "correct horse" });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var studio = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, studio.StatusCode);
        Assert.Contains("Create an image", await studio.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Registering_a_taken_address_answers_exactly_as_a_free_one_and_changes_nothing()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var existing = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Taken", UserRole.User, "password123");
        var free = $"{Guid.NewGuid():N}@example.test";
        var form = (string email) => new Dictionary<string, string>
        {
            ["Form.DisplayName"] = "Bob", ["Form.Email"] = email, ["Form.Password"] = "another-password", ["Form.ConfirmPassword"] = "another-password",
        };

        var taken = await PostFormAsync(Browser(), "/account/register", "register", form(existing.Email.ToUpperInvariant()));
        var fresh = await PostFormAsync(Browser(), "/account/register", "register", form(free));

        Assert.Equal(fresh.StatusCode, taken.StatusCode);
        Assert.Equal(fresh.Headers.Location, taken.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, taken.StatusCode);
        var unchanged = (await users.FindAsync(existing.Id))!;
        Assert.Equal("Taken", unchanged.DisplayName);
        Assert.True(users.VerifyPassword(unchanged, "password123"));
    }

    [Fact]
    public async Task Registration_errors_are_readable_and_create_nothing()
    {
        var existing = await app.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Taken", UserRole.User, "password123");

        // A taken address with a too-short password hears about the password, as a free address would.
        var shortPassword = await PostFormAsync(Browser(), "/account/register", "register", new()
        {
            ["Form.DisplayName"] = "Bob", ["Form.Email"] = existing.Email, ["Form.Password"] = "short", ["Form.ConfirmPassword"] = "short",
        });
        Assert.Equal(HttpStatusCode.OK, shortPassword.StatusCode);
        Assert.Contains("The password must be 8 to 200 characters long.", await shortPassword.Content.ReadAsStringAsync());

        var mismatch = await PostFormAsync(Browser(), "/account/register", "register", new()
        {
            ["Form.DisplayName"] = "Bob", ["Form.Email"] = "bob@example.test", ["Form.Password"] = "password123", ["Form.ConfirmPassword"] = "password124",
        });
        Assert.Contains("The two passwords don&#x27;t match.", await mismatch.Content.ReadAsStringAsync());
        Assert.Null(await app.Services.GetRequiredService<UserService>().FindByEmailAsync("bob@example.test"));
    }

    [Fact]
    public async Task Sign_in_refuses_a_wrong_password_and_a_disabled_account_and_ignores_foreign_return_urls()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Cy", UserRole.User, "password123");

        var wrong = await PostFormAsync(Browser(), "/account/login", "login", new() { ["Form.Email"] = user.Email, ["Form.Password"] = "nope-nope" });
        Assert.Contains("The email or password is wrong.", await wrong.Content.ReadAsStringAsync());

        var browser = Browser();
        var signedIn = await PostFormAsync(browser, "/account/login?returnUrl=https%3A%2F%2Fevil.example%2F", "login",
            new() { ["Form.Email"] = user.Email, ["Form.Password"] = "password123" });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("localhost", signedIn.Headers.Location!.Host);
        Assert.Equal("/", signedIn.Headers.Location.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);

        await users.SetDisabledAsync(Guid.NewGuid(), user.Id, disabled: true);

        // The cookie already issued stops working on the next request...
        var afterDisable = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, afterDisable.StatusCode);
        Assert.Equal("/account/login", afterDisable.Headers.Location!.AbsolutePath);
        // ...and signing in again is refused with a clear reason.
        var disabled = await PostFormAsync(Browser(), "/account/login", "login", new() { ["Form.Email"] = user.Email, ["Form.Password"] = "password123" });
        Assert.Contains("This account is disabled.", await disabled.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_studio_cookie_cannot_call_the_api()
    {
        var browser = await SignedInBrowserAsync(UserRole.User);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/api/v1/tasks", new StringContent("{\"prompt\":\"x\"}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task Media_serves_owners_their_images_and_nobody_else()
    {
        var owner = await app.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Owner", UserRole.User, "password123");
        var created = await app.Services.GetRequiredService<TaskService>().SubmitAsync(owner.Id,
            new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "a tree" }, CancellationToken.None);
        var task = await app.Services.GetRequiredService<TaskService>().WaitAsync(created.Value!.Id, owner.Id, TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.Equal(GenerationTaskStatus.Succeeded, task!.Status);

        var ownerBrowser = Browser();
        await PostFormAsync(ownerBrowser, "/account/login", "login", new() { ["Form.Email"] = owner.Email, ["Form.Password"] = "password123" });
        var original = await ownerBrowser.GetAsync($"/media/tasks/{task.Id}/0?download=true");
        Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        Assert.Equal("image/png", original.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", original.Content.Headers.ContentDisposition!.DispositionType);
        var thumbnail = await ownerBrowser.GetAsync($"/media/tasks/{task.Id}/0/thumb");
        Assert.Equal("image/webp", thumbnail.Content.Headers.ContentType!.MediaType);

        var stranger = await SignedInBrowserAsync(UserRole.User);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/media/tasks/{task.Id}/0")).StatusCode);
        var admin = await SignedInBrowserAsync(UserRole.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/media/tasks/{task.Id}/0")).StatusCode);
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one_and_the_new_one_signs_in()
    {
        var users = app.Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Pat", UserRole.User, "old-password");
        Assert.Equal(HttpStatusCode.Redirect, (await Browser().GetAsync("/account/password")).StatusCode);
        var browser = Browser();
        await PostFormAsync(browser, "/account/login", "login", new() { ["Form.Email"] = user.Email, ["Form.Password"] = "old-password" });

        var wrong = await PostFormAsync(browser, "/account/password", "password", new()
        {
            ["Form.CurrentPassword"] = "not-it-at-all", ["Form.NewPassword"] = "new-password", ["Form.ConfirmPassword"] = "new-password",
        });
        Assert.Contains("The current password is wrong.", await wrong.Content.ReadAsStringAsync());
        Assert.True(users.VerifyPassword((await users.FindAsync(user.Id))!, "old-password"));

        var changed = await PostFormAsync(browser, "/account/password", "password", new()
        {
            ["Form.CurrentPassword"] = "old-password", ["Form.NewPassword"] = "new-password", ["Form.ConfirmPassword"] = "new-password",
        });
        Assert.Contains("Your password was changed.", await changed.Content.ReadAsStringAsync());
        var stored = (await users.FindAsync(user.Id))!;
        Assert.True(users.VerifyPassword(stored, "new-password"));
        Assert.False(users.VerifyPassword(stored, "old-password"));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Sign_out_needs_the_studio_form_token_so_another_site_cannot_sign_the_user_out()
    {
        var browser = await SignedInBrowserAsync(UserRole.User);

        using var forged = new HttpRequestMessage(HttpMethod.Post, "/account/logout") { Content = new FormUrlEncodedContent([]) };
        forged.Headers.Add("Origin", "https://evil.example");
        var refused = await browser.SendAsync(forged);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);

        // The studio's own sign-out button: the app bar's form, with its token.
        var page = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();
        var form = page[page.IndexOf("action=\"/account/logout\"", StringComparison.Ordinal)..];
        var token = FormToken(form);
        var signedOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal("/account/login", signedOut.Headers.Location!.OriginalString);
        var after = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal("/account/login", after.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Sign_in_with_a_non_ascii_return_url_signs_in_and_redirects_there_percent_encoded()
    {
        var user = await app.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Zoë", UserRole.User, "password123");
        var browser = Browser();

        var response = await PostFormAsync(browser, "/account/login?ReturnUrl=%2Fhistory%3Fsearch%3Dcaf%C3%A9", "login",
            new() { ["Form.Email"] = user.Email, ["Form.Password"] = "password123" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal("/history?search=caf%C3%A9", location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/history?search=caf%C3%A9")).StatusCode);
    }

    private async Task<HttpClient> SignedInBrowserAsync(UserRole role)
    {
        var user = await app.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Someone", role, "password123");
        var browser = Browser();
        var response = await PostFormAsync(browser, "/account/login", "login", new() { ["Form.Email"] = user.Email, ["Form.Password"] = "password123" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    /// <summary>Loads the form (for its antiforgery token and cookie) and posts it back, as a browser does.</summary>
    internal static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string url, string handler, Dictionary<string, string> fields)
    {
        var page = await (await browser.GetAsync(url)).Content.ReadAsStringAsync();
        fields["_handler"] = handler;
        fields["__RequestVerificationToken"] = FormToken(page);
        return await browser.PostAsync(url, new FormUrlEncodedContent(fields));
    }

    /// <summary>The antiforgery token of the first form in <paramref name="html"/>, decoded as a browser posts it.</summary>
    internal static string FormToken(string html) => WebUtility.HtmlDecode(AntiforgeryToken().Match(html).Groups[1].Value);

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}

public sealed class SignInThrottleFactory : BananaLabFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RateLimits:SignInAttemptsPerMinute"] = "3" };
}

/// <summary>Password guessing through the sign-in form is slowed down per address.</summary>
public sealed class SignInThrottleTests(SignInThrottleFactory app) : IClassFixture<SignInThrottleFactory>
{
    [Fact]
    public async Task After_the_allowed_attempts_the_form_answers_429_with_a_readable_page()
    {
        var user = await app.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Guessed", UserRole.User, "password123");
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var fields = () => new Dictionary<string, string> { ["Form.Email"] = user.Email, ["Form.Password"] = "wrong-guess" };

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var refused = await AccountTests.PostFormAsync(browser, "/account/login", "login", fields());
            Assert.Contains("The email or password is wrong.", await refused.Content.ReadAsStringAsync());
        }
        var throttled = await AccountTests.PostFormAsync(browser, "/account/login", "login",
            new() { ["Form.Email"] = user.Email, ["Form.Password"] = "password123" });

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal("60", throttled.Headers.RetryAfter!.ToString());
        Assert.Contains("Too many sign-in attempts", await throttled.Content.ReadAsStringAsync());
        Assert.False(throttled.Headers.Contains("Set-Cookie") && throttled.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("BananaLab.Auth")));
        // Reading the form is not an attempt.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/login")).StatusCode);
    }
}

/// <summary>The bootstrap admin first started without a password (API only) gets one from a later start.</summary>
public sealed class BootstrapAdminPasswordTests
{
    private sealed class Host(string dataDirectory, string? password) : BananaLabFactory(dataDirectory)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Bootstrap:AdminPassword"] = password };
    }

    [Fact]
    public async Task A_password_configured_after_the_first_start_lets_the_admin_sign_in()
    {
        using var data = new TempDirectory();
        await using (var first = new Host(data.Path, password: null))
        {
            var admin = await first.Services.GetRequiredService<UserService>().FindByEmailAsync("admin@example.test");
            Assert.Null(admin!.PasswordHash);
        }
        await using var second = new Host(data.Path, password: "later-password-1");
        var users = second.Services.GetRequiredService<UserService>();
        var withPassword = await users.FindByEmailAsync("admin@example.test");
        Assert.True(users.VerifyPassword(withPassword!, "later-password-1"));
        Assert.Equal(1000, withPassword!.CreditBalance);
    }
}
