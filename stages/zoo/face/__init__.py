"""Face detection: PaddleDetection's BlazeFace on WIDER FACE-layout data, scored Easy/Medium/Hard."""
