namespace ClickFunctions.Clicks;

public static class TimeBuckets
{
    public static DateTimeOffset FloorToMinute(DateTimeOffset t) => Floor(t, TimeSpan.TicksPerMinute);

    public static DateTimeOffset Floor(DateTimeOffset t, long ticks)
    {
        long utc = t.UtcTicks;
        return new DateTimeOffset(utc - (utc % ticks), TimeSpan.Zero);
    }
}
