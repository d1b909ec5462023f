import { Storefront } from "@/ui/storefront";

export default function HomePage() {
  return (
    <main className="page">
      <section className="hero">
        <h1>Fresh roasts and loose-leaf teas</h1>
        <p>Small-batch coffee, tea and the gear to brew them. Pay once, even when your connection does not.</p>
      </section>
      <Storefront />
    </main>
  );
}
