using System.Diagnostics;
using System.Globalization;

namespace ClickFunctions.Tests;

/// <summary>
/// An independent calculation of local-time buckets: Python's zoneinfo (the IANA tz database) groups click minutes into
/// local hours and days in a separate process. Shared by the embedded store's and the Functions app's time-zone tests.
/// </summary>
public static class ZoneInfoBuckets
{
    // Python groups each click minute by the local start of its hour or day: a day starts at local midnight (fold=0:
    // the first occurrence, or where the clock resumes when it skips midnight), an hour at the instant the clock
    // shows a whole hour. It prints "start-with-offset count" lines in start order.
    private const string Script = """
        import sys
        from datetime import datetime, timedelta, timezone
        from zoneinfo import ZoneInfo
        zone = ZoneInfo(sys.argv[1]); unit = sys.argv[2]
        counts = {}
        for line in sys.stdin.read().split():
            utc = datetime.fromtimestamp(int(line) * 60, timezone.utc)
            local = utc.astimezone(zone)
            if unit == "day":
                start = datetime(local.year, local.month, local.day, tzinfo=zone).astimezone(timezone.utc)
            else:
                start = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
                while start.astimezone(zone).minute != 0:
                    start -= timedelta(minutes=15)
            counts[start] = counts.get(start, 0) + 1
        for start in sorted(counts):
            text = start.astimezone(zone).isoformat()
            print((text[:-6] + "Z") if text.endswith("+00:00") else text, counts[start])
        """;

    /// <summary>The "start-with-offset count" lines Python prints for <paramref name="unixMinutes"/> (one line per click; a minute may repeat).</summary>
    public static List<string> Python(string zone, string unit, IEnumerable<long> unixMinutes)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(zone);
        start.ArgumentList.Add(unit);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(string.Join('\n', unixMinutes.Select(m => m.ToString(CultureInfo.InvariantCulture))));
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "python3 did not finish");
        Assert.True(process.ExitCode == 0, process.StandardError.ReadToEnd());
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
