using Microsoft.Playwright;

namespace BananaLab.Tests.Browser;

/// <summary>What a person does on the account pages (plain HTML forms, so no circuit to wait for).</summary>
public static class AccountSteps
{
    public const string Password = "correct-horse-battery";

    public static string NewEmail() => $"browser-{Guid.NewGuid():N}@example.test";

    /// <summary>Signs up, then signs in with the new password on the page the sign-up form leads to (it keeps the return URL).</summary>
    public static async Task RegisterAsync(IPage page, string name, string email, string password = Password)
    {
        await SubmitRegistrationAsync(page, name, email, password);
        await WaitForPathAsync(page, "/account/login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    public static async Task SubmitRegistrationAsync(IPage page, string name, string email, string password = Password)
    {
        await page.GotoAsync("/account/register");
        await page.GetByLabel("Your name").FillAsync(name);
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password (at least 8 characters)").FillAsync(password);
        await page.GetByLabel("Repeat the password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
    }

    public static async Task SignInAsync(IPage page, string email, string password, string path = "/account/login")
    {
        await page.GotoAsync(path);
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    public static async Task SignOutAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/account/login");
    }

    /// <summary>
    /// The form's error with this text. Filtered by text because the page has a second alert, the circuit's
    /// error bar, which counts as visible until the stylesheet that hides it has loaded.
    /// </summary>
    public static ILocator Alert(IPage page, string text) =>
        page.GetByRole(AriaRole.Alert).Filter(new() { HasText = text });

    /// <summary>The app bar's balance chip, which every signed-in page shows.</summary>
    public static ILocator BalanceChip(IPage page, int credits) =>
        page.GetByLabel($"Balance: {credits} credits", new() { Exact = true });

    public static async Task WaitForPathAsync(IPage page, string path) =>
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == path);
}
