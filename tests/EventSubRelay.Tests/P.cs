namespace EventSubRelay.Tests; public class P{}
