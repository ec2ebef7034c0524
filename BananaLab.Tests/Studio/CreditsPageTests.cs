using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Credits;
using Bunit;
using MudBlazor;

namespace BananaLab.Tests.Studio;

public sealed class CreditsPageTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task The_ledger_lists_every_movement_newest_first_with_its_running_balance()
    {
        var user = await SignInNewUserAsync(credits: 100);
        var task = await UserPageTasks.SubmitAsync(Get<TaskService>(), user.Id, "a copper kettle");
        Assert.Equal(GenerationTaskStatus.Succeeded, task.Status);
        var failed = await UserPageTasks.SubmitAsync(Get<TaskService>(), user.Id, "[fail] a tin whistle");
        var admin = await Get<UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Admin", UserRole.Admin);
        Assert.Equal(115, await Get<CreditLedger>().AdjustAsync(user.Id, 20, "Goodwill for the outage", admin.Id));
        RenderProviders();

        var cut = Render<CreditsPage>();

        cut.WaitForAssertion(() => Assert.Equal(6, LedgerRows(cut).Count), Wait);
        var rows = LedgerRows(cut);
        Assert.Equal(["115", "95", "90", "95", "95", "100"], rows.Select(r => Cell(r, "Balance")));
        Assert.Equal(["Adjustment", "Returned", "Held", "Charged", "Held", "Grant"], rows.Select(r => Cell(r, "Kind")));
        Assert.Equal(["+20", "+5", "−5", "5 charged", "−5", "+100"], rows.Select(r => Cell(r, "Change")));
        Assert.Equal("Goodwill for the outage", Cell(rows[0], "Reason"));
        Assert.Equal($"Task did not succeed ({failed.ErrorCode})", Cell(rows[1], "Reason"));
        Assert.Contains($"/tasks/{failed.Id}", rows[1].InnerHtml);
        Assert.Contains($"/tasks/{task.Id}", rows[3].InnerHtml);
        Assert.Contains($"/tasks/{task.Id}", rows[4].InnerHtml);
        Assert.Equal("115", cut.Find("#credit-balance").TextContent.Trim());
    }

    [Fact]
    public async Task The_daily_spend_chart_shows_todays_charges()
    {
        var user = await SignInNewUserAsync(credits: 100);
        await UserPageTasks.SubmitAsync(Get<TaskService>(), user.Id, "a brass compass", request: new SubmitTaskRequest { ImageCount = 3 });
        RenderProviders();

        var cut = Render<CreditsPage>();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#spend-chart")), Wait);
        Assert.Equal("15 credits", cut.Find("#spend-total").TextContent.Trim());
        var chart = cut.FindComponent<MudChart<double>>();
        var series = Assert.Single(chart.Instance.ChartSeries);
        var data = Enumerable.Range(0, series.Data.Count).Select(i => Convert.ToDouble(series.Data.GetValue(i))).ToArray();
        Assert.Equal(30, data.Length);
        Assert.Equal(15, data[^1]);
        Assert.Equal(15, data.Sum());
        Assert.Equal(30, chart.Instance.ChartLabels.Length);
    }

    [Fact]
    public async Task A_new_user_sees_the_grant_and_an_empty_spend_chart()
    {
        await SignInNewUserAsync(credits: 40);
        RenderProviders();

        var cut = Render<CreditsPage>();

        cut.WaitForAssertion(() => Assert.Single(LedgerRows(cut)), Wait);
        Assert.Equal("Grant", Cell(LedgerRows(cut)[0], "Kind"));
        Assert.Contains("Nothing spent yet", cut.Markup);
        Assert.Empty(cut.FindAll("#spend-chart"));
        Assert.Equal("40", cut.Find("#credit-balance").TextContent.Trim());
    }

    [Fact]
    public async Task The_ledger_pages_on_the_server()
    {
        var user = await SignInNewUserAsync(credits: 1);
        for (var i = 1; i <= 24; i++) await Get<CreditLedger>().GrantAsync(user.Id, 1, $"grant number {i:00}");
        RenderProviders();

        var cut = Render<CreditsPage>();

        cut.WaitForAssertion(() => Assert.Equal(20, LedgerRows(cut).Count), Wait);
        Assert.Contains("grant number 24", cut.Markup);
        Assert.DoesNotContain("grant number 04", cut.Markup);
        cut.Find("button[aria-label='Next page']").Click();
        cut.WaitForAssertion(() => Assert.Equal(5, LedgerRows(cut).Count), Wait);
        Assert.Contains("grant number 04", cut.Markup);
        Assert.Equal("1", Cell(LedgerRows(cut)[^1], "Balance"));
    }

    [Fact]
    public async Task When_the_database_fails_the_page_says_so_without_exception_text()
    {
        await SignInNewUserAsync(credits: 10);
        Services.AddSingleton(new CreditReports(new FailingDbContextFactory(), TimeProvider.System));
        RenderProviders();

        var cut = Render<CreditsPage>();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#spend-unavailable")), Wait);
        Assert.Equal("10", cut.Find("#credit-balance").TextContent.Trim());
        cut.WaitForAssertion(() => Assert.Contains("The ledger could not be loaded", Snackbars()), Wait);
        Assert.Contains("Your balance and spending could not be loaded", Snackbars());
        Assert.DoesNotContain(FailingDbContextFactory.Detail, cut.Markup + Snackbars());

        string Snackbars() => string.Join("\n", Services.GetRequiredService<ISnackbar>().ShownSnackbars.Select(s => s.Message));
    }

    [Fact]
    public async Task While_the_reports_load_the_page_shows_placeholders_then_the_data()
    {
        await SignInNewUserAsync(credits: 10);
        var gated = new GatedDbContextFactory(Get<Microsoft.EntityFrameworkCore.IDbContextFactory<BananaLab.Core.Data.BananaLabDbContext>>());
        Services.AddSingleton(new CreditReports(gated, TimeProvider.System));
        RenderProviders();

        var cut = Render<CreditsPage>();

        cut.WaitForAssertion(() => Assert.Contains("Loading the ledger", cut.Markup), Wait);
        Assert.NotEmpty(cut.FindAll(".mud-skeleton"));
        Assert.Empty(cut.FindAll("#spend-total"));

        gated.Open();

        cut.WaitForAssertion(() => Assert.Single(LedgerRows(cut)), Wait);
        Assert.Contains("Nothing spent yet", cut.Markup);
        Assert.DoesNotContain("Loading the ledger", cut.Markup);
    }

    private static IReadOnlyList<AngleSharp.Dom.IElement> LedgerRows(IRenderedComponent<CreditsPage> cut) =>
        cut.FindAll(".ledger tbody tr").Where(r => r.QuerySelector("td[data-label='Balance']") is not null).ToList();

    private static string Cell(AngleSharp.Dom.IElement row, string label) =>
        row.QuerySelector($"td[data-label='{label}']")!.TextContent.Trim();
}
