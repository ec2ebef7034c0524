using BananaLab.Web.Components.Viewer;

namespace BananaLab.Tests.Studio;

public sealed class ViewerClockTests
{
    private static readonly DateTime Winter = new(2026, 1, 15, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Summer = new(2026, 7, 15, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Without_a_zone_times_are_utc_and_say_so()
    {
        var clock = new ViewerClock();

        Assert.Equal("2026-01-15 12:00:00 UTC", clock.Timestamp(Winter));
        Assert.Equal("UTC", clock.ZoneName);
    }

    [Fact]
    public void A_zone_with_daylight_saving_shows_the_offset_of_that_moment()
    {
        var clock = new ViewerClock();
        clock.Use("America/New_York");

        Assert.Equal("2026-01-15 07:00:00 UTC-5", clock.Timestamp(Winter));
        Assert.Equal("2026-07-15 08:00:00 UTC-4", clock.Timestamp(Summer));
        Assert.Equal("America/New_York", clock.ZoneName);
    }

    [Fact]
    public void Half_hour_zones_and_unspecified_sqlite_dates_are_handled()
    {
        var clock = new ViewerClock();
        clock.Use("Asia/Kolkata");

        Assert.Equal("2026-01-15 17:30:00 UTC+5:30", clock.Timestamp(DateTime.SpecifyKind(Winter, DateTimeKind.Unspecified)));
    }

    [Theory]
    [InlineData("Not/AZone")]
    [InlineData("../../etc/passwd")]
    [InlineData("<script>")]
    [InlineData("")]
    public void A_cookie_that_is_no_known_zone_leaves_utc(string cookie)
    {
        var clock = new ViewerClock();
        clock.Use(cookie);

        Assert.Equal("UTC", clock.ZoneName);
    }

    [Fact]
    public void A_viewers_calendar_day_starts_at_their_local_midnight()
    {
        var clock = new ViewerClock();
        clock.Use("Asia/Tokyo");

        Assert.Equal(new DateTime(2026, 11, 29, 15, 0, 0, DateTimeKind.Utc), clock.StartOfDayUtc(new DateTime(2026, 11, 30)));
        Assert.Equal(new DateTime(2026, 11, 30), clock.Today(new DateTime(2026, 11, 29, 15, 30, 0, DateTimeKind.Utc)));
    }
}
