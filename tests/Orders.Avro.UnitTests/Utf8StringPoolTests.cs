using System.Text;

namespace Orders.Avro.UnitTests;

public sealed class Utf8StringPoolTests
{
    [Fact]
    public void TheSameBytes_GiveTheSameInstance()
    {
        var pool = new Utf8StringPool();

        var first = pool.Get("espresso-machine"u8);
        var second = pool.Get("espresso-machine"u8.ToArray());

        Assert.Equal("espresso-machine", first);
        Assert.Same(first, second);
    }

    [Fact]
    public void CollidingValues_AreNeverShared_EachComesBackRight()
    {
        // One slot: every value collides with every other.
        var pool = new Utf8StringPool(slots: 1);

        foreach (var text in new[] { "EUR", "USD", "EUR", "GBP", "USD", "EUR" })
        {
            Assert.Equal(text, pool.Get(Encoding.UTF8.GetBytes(text)));
        }
    }

    [Fact]
    public void AValueThatKeepsColliding_TakesTheSlotOnlyEveryEighthMiss()
    {
        var pool = new Utf8StringPool(slots: 1);
        var first = pool.Get("EUR"u8);

        for (var i = 1; i < Utf8StringPool.ReplaceEvery; i++)
        {
            Assert.Equal("order-" + i, pool.Get(Encoding.UTF8.GetBytes("order-" + i)));
        }

        Assert.Same(first, pool.Get("EUR"u8));

        // Misses 8 and 9: the eighth takes the slot over, so the ninth finds it.
        var eighth = pool.Get("USD"u8);
        Assert.Same(eighth, pool.Get("USD"u8));
        Assert.NotSame(first, pool.Get("EUR"u8));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(15)]
    [InlineData(Utf8StringPool.PackedBytes)]
    [InlineData(Utf8StringPool.PackedBytes + 1)]
    [InlineData(Utf8StringPool.MaxBytes)]
    public void ValuesThatDifferInAnyOneByte_OrInLength_AreNeverShared(int length)
    {
        // One slot, so that every value meets every other: only the comparison keeps them apart.
        var pool = new Utf8StringPool(slots: 1);
        var basis = Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26))).ToArray();
        List<byte[]> values = [basis, [.. basis, (byte)'a'], [.. basis, 0], .. length > 1 ? new[] { basis[..^1] } : []];
        for (var position = 0; position < length; position++)
        {
            var changed = basis.ToArray();
            changed[position] = (byte)'Z';
            values.Add(changed);
        }

        for (var round = 0; round < Utf8StringPool.ReplaceEvery + 1; round++)
        {
            foreach (var value in values)
            {
                Assert.Equal(Encoding.UTF8.GetString(value), pool.Get(value));
            }
        }
    }

    [Fact]
    public void InvalidUtf8_BecomesTheReplacementCharacter_AsEncodingUtf8DecodesIt()
    {
        var pool = new Utf8StringPool();
        byte[] invalid = [(byte)'a', 0xFF, (byte)'b'];

        Assert.Equal(Encoding.UTF8.GetString(invalid), pool.Get(invalid));
        Assert.Equal("a\uFFFDb", pool.Get(invalid));
    }

    [Fact]
    public void EmptyAndLongValues_AreDecodedRight_LongOnesNotPooled()
    {
        var pool = new Utf8StringPool();
        var longText = new string('x', Utf8StringPool.MaxBytes + 1);

        Assert.Same("", pool.Get([]));
        var first = pool.Get(Encoding.UTF8.GetBytes(longText));
        Assert.Equal(longText, first);
        Assert.NotSame(first, pool.Get(Encoding.UTF8.GetBytes(longText)));
    }

    [Fact]
    public void ManyThreads_AlwaysGetTheirOwnValue()
    {
        var pool = new Utf8StringPool(slots: 4);
        var values = Enumerable.Range(0, 64).Select(i => $"customer-{i:D4}").ToArray();

        Parallel.For(0, 8, thread =>
        {
            for (var n = 0; n < 20_000; n++)
            {
                var text = values[(n * (thread + 1)) % values.Length];
                Assert.Equal(text, pool.Get(Encoding.UTF8.GetBytes(text)));
            }
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-4)]
    public void SlotsThatAreNotAPowerOfTwo_AreRefused(int slots) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Utf8StringPool(slots));
}
