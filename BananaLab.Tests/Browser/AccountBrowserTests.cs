using BananaLab.Tests.Infrastructure;
using BananaLab.Core.Users;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace BananaLab.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class AccountBrowserTests(BrowserFixture browser, ITestOutputHelper output)
{
    private UserService Users => browser.Host.Get<UserService>();

    [Fact]
    public Task Registering_then_signing_in_opens_the_studio_with_the_signup_grant() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        await AccountSteps.RegisterAsync(page, "Rita Register", email);

        await AccountSteps.WaitForPathAsync(page, "/");
        await Expect(AccountSteps.BalanceChip(page, 100)).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();
        var user = await Users.FindByEmailAsync(email);
        Assert.NotNull(user);
        Assert.Equal("Rita Register", user.DisplayName);
        Assert.Equal(UserRole.User, user.Role);
    });

    [Fact]
    public Task Registering_an_email_twice_answers_as_for_a_free_one_and_leaves_the_account_alone() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        await Users.CreateAsync(email, "First Owner", UserRole.User, AccountSteps.Password);

        await AccountSteps.SubmitRegistrationAsync(page, "Second Owner", email, "someone-elses-guess");

        await AccountSteps.WaitForPathAsync(page, "/account/login");
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "If this address had no account, it has one now" })).ToBeVisibleAsync();
        await AccountSteps.SignInAsync(page, email, "someone-elses-guess");
        await Expect(AccountSteps.Alert(page, "The email or password is wrong.")).ToBeVisibleAsync();
        Assert.Equal("First Owner", (await Users.FindByEmailAsync(email))!.DisplayName);
    });

    [Fact]
    public Task A_signed_out_user_signs_in_again_and_returns_to_the_page_they_asked_for() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        await AccountSteps.RegisterAsync(page, "Sam Signout", email);
        await AccountSteps.WaitForPathAsync(page, "/");

        await AccountSteps.SignOutAsync(page);
        await page.GotoAsync("/credits");
        await AccountSteps.WaitForPathAsync(page, "/account/login");
        Assert.Contains("returnurl=%2Fcredits", page.Url, StringComparison.OrdinalIgnoreCase);

        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(AccountSteps.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await AccountSteps.WaitForPathAsync(page, "/credits");
        await Expect(AccountSteps.BalanceChip(page, 100)).ToBeVisibleAsync();
    });

    [Fact]
    public Task A_wrong_password_is_refused_with_a_plain_message() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        await Users.CreateAsync(email, "Wendy Wrong", UserRole.User, AccountSteps.Password);

        await AccountSteps.SignInAsync(page, email, "not-the-password");

        await Expect(AccountSteps.Alert(page, "The email or password is wrong.")).ToBeVisibleAsync();
        await AccountSteps.WaitForPathAsync(page, "/account/login");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToHaveCountAsync(0);
    });

    [Fact]
    public Task A_disabled_account_cannot_sign_in() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        var user = await Users.CreateAsync(email, "Dora Disabled", UserRole.User, AccountSteps.Password);
        var admin = await Users.FindByEmailAsync(ProductionHost.AdminEmail);
        Assert.Null(await Users.SetDisabledAsync(admin!.Id, user.Id, disabled: true));

        await AccountSteps.SignInAsync(page, email, AccountSteps.Password);

        await Expect(AccountSteps.Alert(page, "This account is disabled. Ask an administrator to enable it.")).ToBeVisibleAsync();
        await AccountSteps.WaitForPathAsync(page, "/account/login");
    });
}
