using System.Text;
using Avro;
using Avro.File;
using Avro.Generic;
using ClickFunctions.Capture;

namespace ClickFunctions.Tests.Capture;

public class CaptureFileReaderTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "TestData", "azure-capture-2016-null-codec.avro");

    [Fact]
    public void The_real_azure_capture_file_is_read_with_its_sequence_number_enqueued_time_and_body()
    {
        using var reader = CaptureFileReader.Open(File.OpenRead(Fixture))!;
        var records = reader.ReadToEnd().ToList();

        // Apache.Avro's own container reader is the independent oracle for every field.
        using var oracle = DataFileReader<GenericRecord>.OpenReader(Fixture);
        var expected = oracle.Next();
        Assert.False(oracle.HasNext());

        var record = Assert.Single(records);
        Assert.Equal("null", reader.Codec);
        Assert.Equal((long)expected["SequenceNumber"], record.SequenceNumber);
        Assert.Equal((string)expected["Offset"], record.Offset);
        Assert.Equal(new DateTimeOffset(2016, 11, 16, 16, 44, 11, TimeSpan.Zero), record.EnqueuedTimeUtc);
        Assert.Equal("{\"field1\": \"value1\", \"field2\": \"value2\"}", Encoding.UTF8.GetString(record.Body!));
        Assert.Equal("buddy1234", record.SystemProperties["x-opt-publisher"]);
    }

    [Fact]
    public void A_deflate_coded_capture_file_is_read_like_a_null_coded_one()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cf-deflate-{Guid.NewGuid():N}.avro");
        try
        {
            var schema = (RecordSchema)Schema.Parse(CaptureSchema.Json);
            using (var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), path, Codec.CreateCodec(Codec.Type.Deflate)))
            {
                for (int i = 0; i < 3; i++)
                {
                    var record = new GenericRecord(schema);
                    record.Add("SequenceNumber", 100L + i);
                    record.Add("Offset", "4096");
                    record.Add("EnqueuedTimeUtc", "11/29/2026 1:02:03 PM");
                    record.Add("SystemProperties", new Dictionary<string, object> { ["x-opt-sequence-number"] = 100L + i });
                    record.Add("Properties", new Dictionary<string, object>());
                    record.Add("Body", new byte[] { (byte)i, 42 });
                    writer.Append(record);
                }
            }

            using var reader = CaptureFileReader.Open(File.OpenRead(path))!;
            var records = reader.ReadToEnd().ToList();

            Assert.Equal("deflate", reader.Codec);
            Assert.Equal([100L, 101, 102], records.Select(r => r.SequenceNumber));
            Assert.Equal(new DateTimeOffset(2026, 11, 29, 13, 2, 3, TimeSpan.Zero), records[0].EnqueuedTimeUtc);
            Assert.Equal(new byte[] { 2, 42 }, records[2].Body);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void An_empty_capture_blob_holds_no_events_and_a_non_avro_one_is_an_error()
    {
        Assert.Null(CaptureFileReader.Open(new MemoryStream()));
        Assert.Throws<InvalidDataException>(() => CaptureFileReader.Open(new MemoryStream("{\"not\":\"avro\"}"u8.ToArray())));
    }

    [Fact]
    public void A_header_only_capture_file_reads_as_no_events()
    {
        var header = CaptureBlockWriter.Header(new byte[16]);
        using var reader = CaptureFileReader.Open(new MemoryStream(header))!;

        Assert.Empty(reader.ReadToEnd());
    }

    [Fact]
    public void An_unsupported_codec_is_refused_with_a_clear_error()
    {
        var header = CaptureBlockWriter.Header(new byte[16]);
        int at = header.AsSpan().IndexOf("\bnull"u8);
        "\bsnap"u8.CopyTo(header.AsSpan(at));

        var e = Assert.Throws<InvalidDataException>(() => CaptureFileReader.Open(new MemoryStream(header)));
        Assert.Contains("snap", e.Message, StringComparison.Ordinal);
    }
}
