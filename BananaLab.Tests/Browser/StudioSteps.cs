using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BananaLab.Tests.Browser;

/// <summary>
/// What a person does on the studio page, by the page's <c>data-testid</c>s: prompt, moderation-ok,
/// moderation-message, generate, progress, result-image, download, cost and balance.
/// </summary>
public static class StudioSteps
{
    /// <summary>The prompt box, whether the test id sits on the textarea itself or on its wrapper.</summary>
    public static ILocator Prompt(IPage page) =>
        page.Locator("textarea[data-testid=prompt], [data-testid=prompt] textarea");

    public static ILocator Generate(IPage page) => page.GetByTestId("generate");

    public static ILocator ResultImage(IPage page) =>
        page.Locator("img[data-testid=result-image], [data-testid=result-image] img");

    /// <summary>Shown once the page has screened an allowed prompt.</summary>
    public static ILocator ModerationOk(IPage page) => page.GetByTestId("moderation-ok");

    /// <summary>The neutral message shown beside a blocked prompt.</summary>
    public static ILocator ModerationMessage(IPage page) => page.GetByTestId("moderation-message");

    /// <summary>
    /// Types the prompt until the page shows it has screened it (<paramref name="screened"/>: the
    /// moderation-ok or the moderation-message). Blazor Server attaches its event handlers only once the
    /// circuit is up, so typing into the prerendered page is lost, and is repeated.
    /// </summary>
    public static async Task EnterPromptAsync(IPage page, string prompt, ILocator screened)
    {
        var field = Prompt(page);
        await Expect(field).ToBeVisibleAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await field.FillAsync(prompt);
            try
            {
                await Expect(screened).ToBeVisibleAsync(new() { Timeout = 5_000 });
                return;
            }
            catch (PlaywrightException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    /// <summary>
    /// Records, in the page, every value the progress bar shows from now on (its <c>aria-valuenow</c>),
    /// so a fast generation cannot slip between two looks at the page.
    /// </summary>
    public static Task RecordProgressAsync(IPage page) => page.EvaluateAsync("""
        () => {
            window.__progressSeen = [];
            const read = () => {
                for (const el of document.querySelectorAll('[data-testid=progress]')) {
                    const bar = el.hasAttribute('aria-valuenow') ? el : el.querySelector('[aria-valuenow]');
                    const value = bar ? parseFloat(bar.getAttribute('aria-valuenow')) : NaN;
                    const seen = window.__progressSeen;
                    if (!Number.isNaN(value) && seen[seen.length - 1] !== value) seen.push(value);
                }
            };
            new MutationObserver(read).observe(document.body,
                { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-testid'] });
            read();
        }
        """);

    public static async Task<double[]> RecordedProgressAsync(IPage page) =>
        await page.EvaluateAsync<double[]>("() => window.__progressSeen");

    /// <summary>Waits until the first result image is shown and decoded.</summary>
    public static async Task ExpectResultImageAsync(IPage page, TimeSpan timeout)
    {
        var image = ResultImage(page).First;
        await Expect(image).ToBeVisibleAsync(new() { Timeout = (float)timeout.TotalMilliseconds });
        var naturalWidth = await image.EvaluateAsync<int>("""
            img => img.complete ? img.naturalWidth : new Promise(resolve => {
                img.addEventListener('load', () => resolve(img.naturalWidth), { once: true });
                img.addEventListener('error', () => resolve(0), { once: true });
            })
            """);
        Assert.True(naturalWidth > 0, $"The result image did not load: {await image.GetAttributeAsync("src")}");
    }

    /// <summary>
    /// The page has its stylesheets and a live circuit: the circuit's error bar is hidden (by app.css), Blazor
    /// started, and the layout is a page, not the 20,000-pixel column of bare SVG icons an unstyled studio was.
    /// </summary>
    public static async Task ExpectStyledAndConnectedAsync(IPage page)
    {
        await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined && document.querySelector('.mud-appbar') !== null");
        var position = await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-appbar')).position");
        Assert.Equal("fixed", position);
        var height = await page.EvaluateAsync<int>("() => document.documentElement.scrollHeight");
        Assert.True(height < 3000, $"The studio is {height} px tall: its stylesheets did not apply.");
    }
}
